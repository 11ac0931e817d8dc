import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) carried in each message's
 * `traceparent` header, so one order's commands and replies form one trace across services.
 * There are no spans to export here; the point is that the ids travel, so any tracer added
 * later joins the same trace.
 */
export interface TraceContext {
  traceId: string;
  /** The id of the current operation: the parent-id of whatever it sends. */
  spanId: string;
  flags: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

export function parseTraceparent(value: string | undefined): TraceContext | undefined {
  const match = value === undefined ? null : TRACEPARENT.exec(value.trim());
  if (!match || match[1] === ZERO_TRACE_ID || match[2] === ZERO_SPAN_ID) return undefined;
  return { traceId: match[1], spanId: match[2], flags: match[3] };
}

export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.flags}`;
}

/** A new operation: a child of `parent` (same trace, new span id), or the root of a new trace. */
export function startSpan(parent?: TraceContext): TraceContext {
  return {
    traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    flags: parent?.flags ?? '01',
  };
}

const current = new AsyncLocalStorage<TraceContext>();

export function currentTraceContext(): TraceContext | undefined {
  return current.getStore();
}

/** Runs `fn` as the operation `context`: messages it enqueues carry it as their parent. */
export function runInTraceContext<T>(context: TraceContext, fn: () => T): T {
  return current.run(context, fn);
}

/** The `traceparent` for a message sent now: the current operation's, or a new trace's. */
export function outgoingTraceparent(): string {
  return formatTraceparent(currentTraceContext() ?? startSpan());
}
