import { describe, expect, it } from '@jest/globals';
import { commandEnvelope, invalidMessageText } from './testing/index.js';
import { commandOrderId } from './command-order-id.js';

const ORDER_ID = '9223372036854775807';
const command = (payload: object, correlationId = ORDER_ID) =>
  commandEnvelope('inventory.tcc.try', payload, correlationId);

describe("a participant command's order id", () => {
  it('accepts an order id equal to the correlation id, up to 2^63 - 1, kept as a string', () => {
    expect(commandOrderId(command({ orderId: ORDER_ID }))).toBe(ORDER_ID);
  });

  it.each([
    ['a number', 42],
    ['zero', '0'],
    ['a leading zero', '042'],
    ['above 2^63 - 1', '9223372036854775808'],
    ['missing', undefined],
  ])('rejects an orderId that is %s', (_case, orderId) => {
    expect(invalidMessageText(() => commandOrderId(command({ orderId }, '42')))).toContain(
      'orderId',
    );
  });

  it('rejects an orderId that is not the correlation id', () => {
    expect(invalidMessageText(() => commandOrderId(command({ orderId: '41' }, '42')))).toContain(
      'correlationId',
    );
  });
});
