import { describe, expect, it } from '@jest/globals';
import { PricingError, priceOrder, unpriced } from './order.js';

describe('priceOrder', () => {
  const lines = [
    { sku: 'A', quantity: 2 },
    { sku: 'B', quantity: 3 },
  ];

  it("prices the order's lines in its own order and computes the total from its quantities", () => {
    const reply = {
      items: [
        { sku: 'B', quantity: 3, unitPriceCents: 399 },
        { sku: 'A', quantity: 2, unitPriceCents: 1250 },
      ],
      totalCents: 1, // never trusted: the total is Σ quantity × unitPriceCents of the order
    };
    expect(priceOrder(lines, reply)).toEqual({
      items: [
        { sku: 'A', quantity: 2, unitPriceCents: 1250 },
        { sku: 'B', quantity: 3, unitPriceCents: 399 },
      ],
      totalCents: 2 * 1250 + 3 * 399,
    });
  });

  it('accepts a free item', () => {
    expect(
      priceOrder([{ sku: 'A', quantity: 5 }], { items: [{ sku: 'A', unitPriceCents: 0 }] }),
    ).toEqual({ items: [{ sku: 'A', quantity: 5, unitPriceCents: 0 }], totalCents: 0 });
  });

  it.each([
    ['no items', {}],
    ['items not an array', { items: 'A' }],
    ['a line missing', { items: [{ sku: 'A', unitPriceCents: 1 }] }],
    [
      'a negative price',
      {
        items: [
          { sku: 'A', unitPriceCents: -1 },
          { sku: 'B', unitPriceCents: 1 },
        ],
      },
    ],
    [
      'a fractional price',
      {
        items: [
          { sku: 'A', unitPriceCents: 1.5 },
          { sku: 'B', unitPriceCents: 1 },
        ],
      },
    ],
    [
      'a price as a string',
      {
        items: [
          { sku: 'A', unitPriceCents: '100' },
          { sku: 'B', unitPriceCents: 1 },
        ],
      },
    ],
    ['no reply at all', null],
  ])('refuses a reply with %s', (_what, reply) => {
    expect(() => priceOrder(lines, reply)).toThrow(PricingError);
  });

  it('refuses a total beyond exact integers', () => {
    const reply = { items: [{ sku: 'A', unitPriceCents: Number.MAX_SAFE_INTEGER }] };
    expect(() => priceOrder([{ sku: 'A', quantity: 2 }], reply)).toThrow(PricingError);
  });
});

describe('unpriced', () => {
  it('leaves every price null', () => {
    expect(unpriced([{ sku: 'A', quantity: 1 }])).toEqual([
      { sku: 'A', quantity: 1, unitPriceCents: null },
    ]);
  });
});
