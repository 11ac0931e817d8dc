import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  activeTraceparent,
  formatTraceparent,
  outgoingTraceparent,
  parseTraceparent,
  toSpanContext,
} from './trace-context.js';

const SAMPLE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('W3C trace context', () => {
  // What the SDK installs in a service: without a context manager nothing is ever active.
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterAll(() => context.disable());

  it('parses and formats a traceparent', () => {
    const parsed = parseTraceparent(SAMPLE);
    expect(parsed).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      flags: '01',
    });
    expect(formatTraceparent(parsed!)).toBe(SAMPLE);
  });

  it('rejects malformed and all-zero ids', () => {
    expect(parseTraceparent(undefined)).toBeUndefined();
    expect(parseTraceparent('garbage')).toBeUndefined();
    expect(parseTraceparent(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBeUndefined();
    expect(
      parseTraceparent(`00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`),
    ).toBeUndefined();
  });

  it('outgoing messages carry the active span, across awaits, or start a new trace', async () => {
    const span = toSpanContext(parseTraceparent(SAMPLE)!);
    const inside = await context.with(trace.setSpanContext(context.active(), span), async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return outgoingTraceparent();
    });
    expect(inside).toBe(SAMPLE);
    expect(activeTraceparent()).toBeNull();
    const root = parseTraceparent(outgoingTraceparent());
    expect(root).toBeDefined();
    expect(root!.traceId).not.toBe(span.traceId);
  });
});
