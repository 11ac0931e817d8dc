import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createLogger, PinoLoggerService, withLogFields } from './logger.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

/** A logger writing to memory: one parsed object per line. */
function capture(level: 'info' | 'debug' = 'info') {
  const lines: Record<string, unknown>[] = [];
  const destination = { write: (line: string) => void lines.push(JSON.parse(line)) };
  return { lines, service: new PinoLoggerService(createLogger('order', level, destination)) };
}

describe('JSON logs', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterAll(() => context.disable());

  it('writes level, ISO time, service, msg and the Nest context of a plain line', () => {
    const { lines, service } = capture();
    service.log('Listening on :3000', 'order');
    expect(lines).toEqual([
      {
        level: 'info',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        service: 'order',
        context: 'order',
        msg: 'Listening on :3000',
      },
    ]);
  });

  it('takes fields from an object message, and the stack Nest passes to error', () => {
    const { lines, service } = capture();
    service.warn({ msg: 'Saga parked', orderId: '914189511154708480' }, 'SagaOrchestrator');
    service.error('Boom', 'Error: Boom\n    at here', 'HttpErrorFilter');
    service.error('No stack', undefined, 'HttpErrorFilter');
    expect(lines[0]).toMatchObject({
      level: 'warn',
      msg: 'Saga parked',
      orderId: '914189511154708480',
      context: 'SagaOrchestrator',
    });
    expect(lines[1]).toMatchObject({
      level: 'error',
      msg: 'Boom',
      stack: 'Error: Boom\n    at here',
    });
    expect(lines[2]).toMatchObject({ level: 'error', msg: 'No stack', context: 'HttpErrorFilter' });
    expect(lines[2]).not.toHaveProperty('stack');
  });

  it('adds the active span and the context log fields to every line inside them', async () => {
    const { lines, service } = capture();
    const span = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true };
    const active = withLogFields({ orderId: '42' }, trace.setSpanContext(context.active(), span));
    await context.with(active, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      service.log('inside');
    });
    service.log('outside');
    expect(lines[0]).toMatchObject({
      msg: 'inside',
      orderId: '42',
      traceId: TRACE_ID,
      spanId: SPAN_ID,
    });
    expect(lines[1]).not.toHaveProperty('traceId');
    expect(lines[1]).not.toHaveProperty('orderId');
  });

  it("honours the level, and serves Nest's Logger once it is the app logger", () => {
    const { lines, service } = capture('info');
    Logger.overrideLogger(service);
    try {
      new Logger('OrderSaga').debug('not written at info');
      new Logger('OrderSaga').log({ msg: 'Order COMPLETED by its saga', orderId: '7' });
    } finally {
      Logger.overrideLogger(true);
    }
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', context: 'OrderSaga', orderId: '7' }),
    ]);
  });
});
