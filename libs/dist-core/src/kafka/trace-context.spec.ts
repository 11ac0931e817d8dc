import { describe, expect, it } from '@jest/globals';
import {
  currentTraceContext,
  formatTraceparent,
  outgoingTraceparent,
  parseTraceparent,
  runInTraceContext,
  startSpan,
} from './trace-context.js';

const SAMPLE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('W3C trace context', () => {
  it('parses and formats a traceparent', () => {
    const context = parseTraceparent(SAMPLE);
    expect(context).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      flags: '01',
    });
    expect(formatTraceparent(context!)).toBe(SAMPLE);
  });

  it('rejects malformed and all-zero ids', () => {
    expect(parseTraceparent(undefined)).toBeUndefined();
    expect(parseTraceparent('garbage')).toBeUndefined();
    expect(parseTraceparent(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBeUndefined();
    expect(
      parseTraceparent(`00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`),
    ).toBeUndefined();
  });

  it('a child span keeps the trace and gets a new span id', () => {
    const parent = parseTraceparent(SAMPLE)!;
    const child = startSpan(parent);
    expect(child.traceId).toBe(parent.traceId);
    expect(child.spanId).not.toBe(parent.spanId);
    expect(parseTraceparent(formatTraceparent(child))).toEqual(child);
  });

  it('outgoing messages carry the current operation, or start a new trace', async () => {
    const span = startSpan(parseTraceparent(SAMPLE));
    const inside = await runInTraceContext(span, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return outgoingTraceparent();
    });
    expect(inside).toBe(formatTraceparent(span));
    expect(currentTraceContext()).toBeUndefined();
    const root = parseTraceparent(outgoingTraceparent());
    expect(root?.traceId).not.toBe(span.traceId);
  });
});
