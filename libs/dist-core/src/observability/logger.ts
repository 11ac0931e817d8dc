import type { LoggerService } from '@nestjs/common';
import {
  context,
  createContextKey,
  isSpanContextValid,
  trace,
  type Context,
} from '@opentelemetry/api';
import pino, { type Level, type Logger } from 'pino';

/** pino's levels, most severe first: what LOG_LEVEL accepts (plus `silent`). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LOG_FIELDS = createContextKey('@app/dist-core log fields');

/**
 * `ctx` with `fields` added to every log line written while it is active: a message handler
 * sets `orderId` once, and every line of the saga, the inbox or the service code under it
 * carries it without passing a logger around.
 */
export function withLogFields(fields: Record<string, unknown>, ctx: Context = context.active()) {
  const inherited = ctx.getValue(LOG_FIELDS) as Record<string, unknown> | undefined;
  return ctx.setValue(LOG_FIELDS, { ...inherited, ...fields });
}

/** What every line gets from the active context: its log fields and the trace it belongs to. */
function contextFields(): Record<string, unknown> {
  const active = context.active();
  const fields = active.getValue(LOG_FIELDS) as Record<string, unknown> | undefined;
  const span = trace.getSpanContext(active);
  if (!span || !isSpanContextValid(span)) return { ...fields };
  return { ...fields, traceId: span.traceId, spanId: span.spanId };
}

/**
 * One JSON object per line on stdout: `level`, `time` (ISO-8601), `service`, `msg`, and —
 * inside a request or a message handler — `traceId`, `spanId` and the context's fields
 * (`orderId`), so a log search for one order or one trace finds every line of it in every
 * service.
 */
export function createLogger(
  service: string,
  level: LogLevel = 'info',
  // Synchronous: a service stops by re-raising SIGTERM, which would drop buffered lines
  // (the last ones, about the shutdown).
  destination: pino.DestinationStream = pino.destination({ dest: 1, sync: true }),
): Logger {
  return pino(
    {
      level,
      base: { service },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: contextFields,
    },
    destination,
  );
}

/**
 * Nest's logger interface over pino, so `new Logger(Context).log(...)` everywhere (Nest's own
 * start-up lines included) writes the same JSON. A message may be a string or an object with
 * `msg` and fields: `logger.warn({ msg: 'Saga parked', orderId })`.
 */
export class PinoLoggerService implements LoggerService {
  constructor(readonly pino: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /**
   * Nest appends the logger's context (its class name) as the last parameter; `error` may
   * carry a stack before it, and Nest passes `undefined` for a missing stack.
   */
  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const rest = [...params];
    const fields: Record<string, unknown> = {};
    if (rest.length > 0 && typeof rest[rest.length - 1] === 'string') fields.context = rest.pop();
    const stack = rest.find((param) => typeof param === 'string');
    if (stack !== undefined) fields.stack = stack;
    if (message instanceof Error) {
      this.pino[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      const { msg, ...own } = message as Record<string, unknown>;
      this.pino[level]({ ...fields, ...own }, typeof msg === 'string' ? msg : '');
    } else {
      this.pino[level](fields, String(message));
    }
  }
}
