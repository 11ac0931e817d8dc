import { describe, expect, it } from '@jest/globals';
import { InMemoryTccRunner } from '@app/dist-core/tcc/testing';
import { input, ok, ORDER_ID, priced } from '../order-flow.fixture.js';
import type { OrderFlowInput } from '../order-flow-steps.js';
import { order2pc } from './order.2pc.js';

function runner() {
  return new InMemoryTccRunner(order2pc)
    .participant('inventory.2pc.prepare', priced)
    .participant('inventory.2pc.commit', ok)
    .participant('inventory.2pc.rollback', ok)
    .participant('payment.2pc.prepare', ok)
    .participant('payment.2pc.commit', ok)
    .participant('payment.2pc.rollback', ok);
}

const steps = (run: InMemoryTccRunner<OrderFlowInput>) =>
  run.history(ORDER_ID).map((h) => `${h.step}:${h.outcome}`);

describe('the order 2PC', () => {
  it('prepares inventory, then payment for the total it priced, then commits both', () => {
    const run = runner();
    run.begin(ORDER_ID, input);
    run.run();
    expect(run.sent.map((c) => `${c.topic} ${c.type}`)).toEqual([
      'inventory.commands inventory.2pc.prepare',
      'payment.commands payment.2pc.prepare',
      'inventory.decisions inventory.2pc.commit',
      'payment.decisions payment.2pc.commit',
    ]);
    const prepare = run.sent.find((c) => c.type === 'payment.2pc.prepare')!;
    expect(prepare.payload).toEqual({
      orderId: ORDER_ID,
      customerId: 'c-1',
      amountCents: 2899,
      gid: ORDER_ID,
      branch: 'payment',
    });
    // The decision carries the prepare's payload: the participant checks it names the same.
    const commit = run.sent.find((c) => c.type === 'payment.2pc.commit')!;
    expect(commit.payload).toEqual(prepare.payload);
    expect(steps(run)).toEqual([
      'inventory.prepare:SUCCESS',
      'payment.prepare:SUCCESS',
      'inventory.commit:SUCCESS',
      'payment.commit:SUCCESS',
    ]);
    expect(run.transaction(ORDER_ID).status).toBe('CONFIRMED');
  });

  it('asks payment nothing after inventory votes no, and rolls inventory back', () => {
    const run = runner().participant('inventory.2pc.prepare', () => ({
      outcome: 'FAILURE',
      reason: 'OUT_OF_STOCK',
    }));
    run.begin(ORDER_ID, input);
    run.run();
    expect(run.commandTypes(ORDER_ID)).toEqual(['inventory.2pc.prepare', 'inventory.2pc.rollback']);
    expect(run.transaction(ORDER_ID)).toMatchObject({
      status: 'CANCELLED',
      reason: 'OUT_OF_STOCK',
    });
  });

  it("rolls back both when payment votes no, with payment's reason", () => {
    const run = runner().participant('payment.2pc.prepare', () => ({
      outcome: 'FAILURE',
      reason: 'UNKNOWN_CUSTOMER',
    }));
    run.begin(ORDER_ID, input);
    run.run();
    expect(steps(run).slice(2).sort()).toEqual([
      'inventory.rollback:SUCCESS',
      'payment.rollback:SUCCESS',
    ]);
    expect(run.transaction(ORDER_ID)).toMatchObject({
      status: 'CANCELLED',
      reason: 'UNKNOWN_CUSTOMER',
    });
  });
});
