import { describe, expect, it } from '@jest/globals';
import { orderTcc, type OrderTccInput } from './order.tcc.js';

const input: OrderTccInput = {
  orderId: '914165721940434944',
  customerId: 'c-1',
  items: [
    { sku: 'A', quantity: 2 },
    { sku: 'B', quantity: 1 },
  ],
};

describe('the order TCC definition', () => {
  it('tries inventory first, then payment', () => {
    expect(orderTcc.branches.map((b) => b.name)).toEqual(['inventory', 'payment']);
    expect(orderTcc.branches.map((b) => b.topic)).toEqual([
      'inventory.commands',
      'payment.commands',
    ]);
    expect(orderTcc.branches[1].types).toEqual({
      try: 'payment.tcc.try',
      confirm: 'payment.tcc.confirm',
      cancel: 'payment.tcc.cancel',
    });
  });

  it("asks inventory for the lines and payment for the total inventory's Try priced", () => {
    const [inventory, payment] = orderTcc.branches;
    expect(inventory.tryPayload({ gid: input.orderId, input, results: {} })).toEqual({
      orderId: input.orderId,
      items: input.items,
    });
    const results = {
      inventory: {
        items: [
          { sku: 'A', quantity: 2, unitPriceCents: 1250 },
          { sku: 'B', quantity: 1, unitPriceCents: 399 },
        ],
        totalCents: 2899,
      },
    };
    expect(payment.tryPayload({ gid: input.orderId, input, results })).toEqual({
      orderId: input.orderId,
      customerId: 'c-1',
      amountCents: 2899,
    });
  });
});
