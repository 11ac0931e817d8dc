import { trace, type Tracer } from '@opentelemetry/api';

/** The instrumentation scope of every span the library starts. */
export const TRACER_NAME = '@app/dist-core';

/**
 * The library's tracer, through the OpenTelemetry API only: the SDK behind it is whatever the
 * process installed (`startTracing`), and without one every span is a no-op.
 */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}
