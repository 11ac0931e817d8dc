export { httpTracingMiddleware } from './http-tracing.js';
export {
  activeTraceparent,
  formatTraceparent,
  outgoingTraceparent,
  parseTraceparent,
  toSpanContext,
} from './trace-context.js';
export type { TraceContext } from './trace-context.js';
export { createLogger, LOG_LEVELS, PinoLoggerService, withLogFields } from './logger.js';
export type { LogLevel } from './logger.js';
export { tracer, TRACER_NAME } from './tracer.js';
export { shutdownTracing, startTracing } from './tracing.js';
export type { Tracing } from './tracing.js';
