import { describe, expect, it } from '@jest/globals';
import { InMemoryTccRunner } from '@app/dist-core/tcc/testing';
import { input, ok, ORDER_ID, priced } from '../order-flow.fixture.js';
import { orderTcc } from './order.tcc.js';

function runner() {
  return new InMemoryTccRunner(orderTcc)
    .participant('inventory.tcc.try', priced)
    .participant('inventory.tcc.confirm', ok)
    .participant('inventory.tcc.cancel', ok)
    .participant('payment.tcc.try', ok)
    .participant('payment.tcc.confirm', ok)
    .participant('payment.tcc.cancel', ok);
}

describe('the order TCC', () => {
  it('tries inventory, then freezes the total it priced, then confirms both', () => {
    const run = runner();
    run.begin(ORDER_ID, input);
    run.run();
    expect(run.commandTypes(ORDER_ID)).toEqual([
      'inventory.tcc.try',
      'payment.tcc.try',
      'inventory.tcc.confirm',
      'payment.tcc.confirm',
    ]);
    const freeze = run.sent.find((c) => c.type === 'payment.tcc.try')!;
    expect(freeze.topic).toBe('payment.commands');
    expect(freeze.payload).toMatchObject({
      orderId: ORDER_ID,
      customerId: 'c-1',
      amountCents: 2899,
    });
    // Confirm carries the Try's payload, so payment needs no lookup to settle.
    const capture = run.sent.find((c) => c.type === 'payment.tcc.confirm')!;
    expect(capture.payload).toEqual(freeze.payload);
    expect(run.transaction(ORDER_ID).status).toBe('CONFIRMED');
  });

  it('tries nothing more after a failed reservation, and cancels it', () => {
    const run = runner().participant('inventory.tcc.try', () => ({
      outcome: 'FAILURE',
      reason: 'OUT_OF_STOCK',
    }));
    run.begin(ORDER_ID, input);
    run.run();
    expect(run.commandTypes(ORDER_ID)).toEqual(['inventory.tcc.try', 'inventory.tcc.cancel']);
    expect(run.transaction(ORDER_ID)).toMatchObject({
      status: 'CANCELLED',
      reason: 'OUT_OF_STOCK',
    });
  });

  it('cancels both branches when the payment fails', () => {
    const run = runner().participant('payment.tcc.try', () => ({
      outcome: 'FAILURE',
      reason: 'INSUFFICIENT_FUNDS',
    }));
    run.begin(ORDER_ID, input);
    run.run();
    expect(run.commandTypes(ORDER_ID).slice(-2).sort()).toEqual([
      'inventory.tcc.cancel',
      'payment.tcc.cancel',
    ]);
    expect(run.history(ORDER_ID).map((h) => `${h.step}:${h.outcome}`)).toContain(
      'payment.try:FAILURE',
    );
    expect(run.transaction(ORDER_ID)).toMatchObject({
      status: 'CANCELLED',
      reason: 'INSUFFICIENT_FUNDS',
    });
  });

  it('cancels with TIMEOUT when the payment never answers its Try', () => {
    const run = runner().participant('payment.tcc.try', () => 'NO_REPLY');
    run.begin(ORDER_ID, input);
    run.run();
    expect(run.commandTypes(ORDER_ID)).not.toContain('payment.tcc.confirm');
    expect(run.transaction(ORDER_ID)).toMatchObject({ status: 'CANCELLED', reason: 'TIMEOUT' });
  });

  it('sends a Confirm again until its participant answers', () => {
    let confirms = 0;
    const run = runner().participant('inventory.tcc.confirm', () =>
      ++confirms < 3 ? 'NO_REPLY' : { outcome: 'SUCCESS' },
    );
    run.begin(ORDER_ID, input);
    run.run();
    expect(run.commandTypes(ORDER_ID)).not.toContain('payment.tcc.cancel');
    expect(run.transaction(ORDER_ID).status).toBe('CONFIRMED');
    expect(confirms).toBe(3);
  });
});
