export { httpTracingMiddleware } from './http-tracing.js';
export {
  failActiveSpan,
  MESSAGE_TYPE_ATTRIBUTE,
  recordFailure,
  withConsumeSpan,
  withLinkedTrace,
  withPublishSpans,
} from './kafka-spans.js';
export type { ConsumedMessage, PublishedRow } from './kafka-spans.js';
export { createLogger, LOG_LEVELS, PinoLoggerService, withLogFields } from './logger.js';
export type { LogLevel } from './logger.js';
export { tracer, TRACER_NAME } from './tracer.js';
export { shutdownTracing, startTracing } from './tracing.js';
export type { Tracing } from './tracing.js';
