import type { LoggerService } from '@nestjs/common';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export interface Tracing {
  /** Where spans go (OTLP/HTTP), or null when nothing is exported. */
  readonly endpoint: string | null;
  /** Exports the spans still buffered and stops; call last at shutdown. */
  shutdown(): Promise<void>;
}

let installed: Tracing | undefined;

/**
 * Installs the OpenTelemetry SDK for this process, configured by the standard variables:
 *
 * - `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is) or `OTEL_EXPORTER_OTLP_ENDPOINT` (with
 *   `/v1/traces` appended): spans are exported there as OTLP/HTTP JSON, in batches
 *   (`OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, ...). Neither set: nothing
 *   is exported.
 * - `OTEL_SERVICE_NAME` (default: the service's name), `OTEL_RESOURCE_ATTRIBUTES`.
 *
 * The provider, its context manager (AsyncLocalStorage) and the W3C propagator are installed
 * even when nothing is exported: the spans still exist, so context flows from an HTTP request
 * to the messages it causes and log lines carry trace ids.
 *
 * Explicit spans (http-tracing.ts here, kafka/kafka-spans.ts), not auto-instrumentation: under ESM that
 * needs a loader hook (`--import`) before the app starts, and a reader should see where each
 * span begins.
 */
export function startTracing(
  serviceName: string,
  options: { logger?: LoggerService; env?: NodeJS.ProcessEnv } = {},
): Tracing {
  if (installed) return installed;
  const { logger, env = process.env } = options;
  // The SDK reports its own trouble (a collector that refuses or does not answer: spans lost)
  // only through `diag`, which is silent unless given a logger.
  if (logger) diag.setLogger(sdkDiagnostics(logger), DiagLogLevel.WARN);
  const endpoint = exportEndpoint(env);
  const provider = new NodeTracerProvider({
    resource: defaultResource()
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }))
      // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the defaults.
      .merge(detectResources({ detectors: [envDetector] })),
    // The exporter reads its URL, headers and timeout from the same variables.
    spanProcessors: endpoint ? [new BatchSpanProcessor(new OTLPTraceExporter())] : [],
  });
  provider.register();
  installed = { endpoint, shutdown: () => provider.shutdown() };
  return installed;
}

/** Flushes and stops the SDK installed by `startTracing`, if any. */
export async function shutdownTracing(): Promise<void> {
  await installed?.shutdown();
}

function exportEndpoint(env: NodeJS.ProcessEnv): string | null {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/$/, '')}/v1/traces` : null;
}

function sdkDiagnostics(logger: LoggerService): DiagLogger {
  const write =
    (level: 'error' | 'warn') =>
    (message: string, ...args: unknown[]) =>
      logger[level](`OpenTelemetry: ${[message, ...args.map(String)].join(' ')}`, 'Tracing');
  const ignore = () => undefined;
  return {
    error: write('error'),
    warn: write('warn'),
    info: ignore,
    debug: ignore,
    verbose: ignore,
  };
}
