import { describe, expect, it } from '@jest/globals';
import { commandEnvelope, invalidMessageText } from '@app/dist-core/barrier/testing';
import { commandLines } from './stock-commands.message.controller.js';

const ORDER_ID = '9223372036854775807';
const command = (payload: object) => commandEnvelope('inventory.tcc.try', payload);

describe('stock command payloads', () => {
  it('keeps valid lines in their order, as plain {sku, quantity}', () => {
    const lines = [
      { sku: 'b-2', quantity: 10_000 },
      { sku: 'A.1_x', quantity: 1 },
    ];
    expect(commandLines(command({ orderId: ORDER_ID, items: lines }))).toEqual(lines);
  });

  it.each([
    ['no items', undefined, 'items must be'],
    ['an empty list', [], 'items must be'],
    [
      '101 lines',
      Array.from({ length: 101 }, (_, i) => ({ sku: `s${i}`, quantity: 1 })),
      'items must be',
    ],
    [
      'a repeated sku',
      [
        { sku: 'a', quantity: 1 },
        { sku: 'a', quantity: 2 },
      ],
      'items.1.sku a is repeated',
    ],
    ['an illegal sku', [{ sku: 'a/b', quantity: 1 }], 'items.0.sku'],
    ['a 65-character sku', [{ sku: 'x'.repeat(65), quantity: 1 }], 'items.0.sku'],
    ['a quantity as a string', [{ sku: 'a', quantity: '1' }], 'items.0.quantity'],
    ['a zero quantity', [{ sku: 'a', quantity: 0 }], 'items.0.quantity'],
    ['a fractional quantity', [{ sku: 'a', quantity: 1.5 }], 'items.0.quantity'],
    ['a quantity above 10000', [{ sku: 'a', quantity: 10_001 }], 'items.0.quantity'],
    ['a line that is not an object', [null], 'items.0.sku'],
  ])('rejects %s', (_case, items, expected) => {
    expect(invalidMessageText(() => commandLines(command({ orderId: ORDER_ID, items })))).toContain(
      expected,
    );
  });
});
