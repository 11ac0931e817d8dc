import { describe, expect, it } from '@jest/globals';
import { InMemorySagaRunner } from '@app/dist-core/saga/testing';
import { input, ok, ORDER_ID, priced } from '../order-flow.fixture.js';
import type { OrderSagaData } from '../order-flow-steps.js';
import { orderSaga } from './order.saga.js';

const data: OrderSagaData = { ...input, priced: null };

function runner() {
  return new InMemorySagaRunner(orderSaga)
    .participant('inventory.saga.reserve', priced)
    .participant('inventory.saga.confirm', ok)
    .participant('inventory.saga.release', ok)
    .participant('payment.saga.charge', ok)
    .participant('payment.saga.refund', ok)
    .participant('payment.saga.settle', ok);
}

describe('the order saga', () => {
  it('reserves, charges the total inventory priced, confirms, then settles the charge', () => {
    const run = runner();
    run.start(ORDER_ID, data);
    run.run();
    expect(run.commandTypes(ORDER_ID)).toEqual([
      'inventory.saga.reserve',
      'payment.saga.charge',
      'inventory.saga.confirm',
      'payment.saga.settle',
    ]);
    const charge = run.sent.find((c) => c.type === 'payment.saga.charge')!;
    expect(charge.topic).toBe('payment.commands');
    expect(charge.payload).toEqual({ orderId: ORDER_ID, customerId: 'c-1', amountCents: 2899 });
    // The settlement names the charge exactly, so payment can check it against its record.
    const settle = run.sent.find((c) => c.type === 'payment.saga.settle')!;
    expect(settle).toMatchObject({ topic: 'payment.commands', kind: 'settlement' });
    expect(settle.payload).toEqual(charge.payload);
    const saga = run.instance(ORDER_ID);
    expect(saga.status).toBe('COMPLETED');
    expect(saga.data.priced).toEqual({
      items: [
        { sku: 'A', quantity: 2, unitPriceCents: 1250 },
        { sku: 'B', quantity: 1, unitPriceCents: 399 },
      ],
      totalCents: 2899,
    });
  });

  it('asks nothing more after a failed reservation', () => {
    const run = runner().participant('inventory.saga.reserve', () => ({
      outcome: 'FAILURE',
      reason: 'OUT_OF_STOCK',
    }));
    run.start(ORDER_ID, data);
    run.run();
    expect(run.commandTypes(ORDER_ID)).toEqual(['inventory.saga.reserve']);
    expect(run.instance(ORDER_ID)).toMatchObject({
      status: 'COMPENSATED',
      failureReason: 'OUT_OF_STOCK',
    });
  });

  it('releases the stock when the payment fails', () => {
    const run = runner().participant('payment.saga.charge', () => ({
      outcome: 'FAILURE',
      reason: 'INSUFFICIENT_FUNDS',
    }));
    run.start(ORDER_ID, data);
    run.run();
    expect(run.commandTypes(ORDER_ID)).toEqual([
      'inventory.saga.reserve',
      'payment.saga.charge',
      'inventory.saga.release',
    ]);
    expect(run.instance(ORDER_ID)).toMatchObject({
      status: 'COMPENSATED',
      failureReason: 'INSUFFICIENT_FUNDS',
    });
  });

  it('refunds, then releases, in reverse order when the payment never answers', () => {
    const run = runner().participant('payment.saga.charge', () => 'NO_REPLY');
    run.start(ORDER_ID, data);
    run.run();
    const types = run.commandTypes(ORDER_ID);
    expect(types.slice(-2)).toEqual(['payment.saga.refund', 'inventory.saga.release']);
    expect(run.instance(ORDER_ID)).toMatchObject({
      status: 'COMPENSATED',
      failureReason: 'TIMEOUT',
    });
    expect(types).not.toContain('payment.saga.settle');
  });

  it('never undoes a paid order: confirmStock is retried until it succeeds', () => {
    let confirms = 0;
    const run = runner().participant('inventory.saga.confirm', () =>
      ++confirms < 3 ? 'NO_REPLY' : { outcome: 'SUCCESS' },
    );
    run.start(ORDER_ID, data);
    run.run();
    expect(run.commandTypes(ORDER_ID)).not.toContain('payment.saga.refund');
    expect(run.commandTypes(ORDER_ID).at(-1)).toBe('payment.saga.settle');
    expect(run.instance(ORDER_ID).status).toBe('COMPLETED');
    expect(confirms).toBe(3);
  });
});
