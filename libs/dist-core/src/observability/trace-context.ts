import { randomBytes } from 'node:crypto';
import { context, isSpanContextValid, trace, type SpanContext } from '@opentelemetry/api';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) carried in each message's and each
 * request's `traceparent` header, so one order's requests, commands and replies form one trace
 * across services. The current operation is OpenTelemetry's active span (tracing.ts installs
 * the SDK); this file only turns it into the header and back.
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

/** A traceparent as OpenTelemetry's remote parent (or link target). */
export function toSpanContext(context: TraceContext): SpanContext {
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    traceFlags: parseInt(context.flags, 16),
    isRemote: true,
  };
}

/** The active span's ids, if a span is active. */
export function currentTraceContext(): TraceContext | undefined {
  const span = trace.getSpanContext(context.active());
  if (!span || !isSpanContextValid(span)) return undefined;
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    flags: span.traceFlags.toString(16).padStart(2, '0'),
  };
}

/** The active span as a traceparent, or null outside any span. */
export function activeTraceparent(): string | null {
  const active = currentTraceContext();
  return active ? formatTraceparent(active) : null;
}

/**
 * The `traceparent` for a message enqueued now: the active span's, or — with no span active
 * (a script, or a process without the SDK) — the root of a new trace, so that every message
 * carries one.
 */
export function outgoingTraceparent(): string {
  return formatTraceparent(
    currentTraceContext() ?? {
      traceId: randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      flags: '01',
    },
  );
}
