// The contents page: tracing (OpenTelemetry, started before Nest), the W3C trace context that
// crosses Kafka in a header, the HTTP spans, and the JSON logger with trace ids.
export { startTracing, shutdownTracing } from './tracing.js';
export { TRACER_NAME } from './tracer.js';
export { httpTracingMiddleware } from './http-tracing.js';
export { activeTraceparent, outgoingTraceparent, parseTraceparent } from './trace-context.js';
export { createLogger, PinoLoggerService, type LogLevel } from './logger.js';
