import { describe, expect, it } from '@jest/globals';
import { PricingError, priceOrder, unpriced } from './order.js';

describe('priceOrder', () => {
  const lines = [
    { sku: 'A', quantity: 2 },
    { sku: 'B', quantity: 3 },
  ];
  const TOTAL = 2 * 1250 + 3 * 399;
  const reply = (items: unknown[], totalCents: unknown = TOTAL) => ({ items, totalCents });
  const A = { sku: 'A', quantity: 2, unitPriceCents: 1250 };
  const B = { sku: 'B', quantity: 3, unitPriceCents: 399 };

  it("prices the order's lines in its own order, whatever order the reply lists them in", () => {
    expect(priceOrder(lines, reply([B, A]))).toEqual({ items: [A, B], totalCents: TOTAL });
  });

  it.each([
    ['no reply at all', null],
    ['no items', {}],
    ['items not an array', { items: 'A', totalCents: TOTAL }],
    ['a line missing', reply([A])],
    ['a line the order does not have', reply([A, B, { ...B, sku: 'C' }])],
    ['a line priced twice instead of another', reply([A, A])],
    ['another quantity', reply([A, { ...B, quantity: 4 }])],
    ['a price of 0', reply([A, { ...B, unitPriceCents: 0 }], 2500)],
    ['a negative price', reply([A, { ...B, unitPriceCents: -1 }], 2497)],
    ['a fractional price', reply([A, { ...B, unitPriceCents: 1.5 }])],
    ['a price as a string', reply([A, { ...B, unitPriceCents: '399' }])],
    ['a total that is not the sum', reply([A, B], TOTAL + 1)],
    ['a total of 0', reply([A, B], 0)],
    ['no total', { items: [A, B] }],
    ['a line that is not an object', reply([A, null])],
  ])('refuses a reply with %s', (_what, priced) => {
    expect(() => priceOrder(lines, priced)).toThrow(PricingError);
  });

  it('refuses a total beyond exact integers', () => {
    const huge = { sku: 'A', quantity: 2, unitPriceCents: Number.MAX_SAFE_INTEGER };
    expect(() =>
      priceOrder([{ sku: 'A', quantity: 2 }], reply([huge], 2 * Number.MAX_SAFE_INTEGER)),
    ).toThrow(PricingError);
  });

  it('names no text of the reply in its error (it may be 20 KB of anything)', () => {
    const junk = 'x'.repeat(20_000);
    expect(() => priceOrder(lines, reply([A, { ...B, sku: junk }]))).toThrow(/^(?!.*xxxx)/s);
  });
});

describe('unpriced', () => {
  it('leaves every price null', () => {
    expect(unpriced([{ sku: 'A', quantity: 1 }])).toEqual([
      { sku: 'A', quantity: 1, unitPriceCents: null },
    ]);
  });
});
