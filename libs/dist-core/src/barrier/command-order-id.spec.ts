import { describe, expect, it } from '@jest/globals';
import { InvalidMessageError, type Envelope } from '../kafka/index.js';
import { commandOrderId } from './command-order-id.js';

const ORDER_ID = '9223372036854775807';

function command(payload: object, correlationId = ORDER_ID): Envelope<unknown> {
  return {
    id: '1',
    type: 'inventory.tcc.try',
    correlationId,
    causationId: null,
    createdAt: new Date().toISOString(),
    payload,
  };
}

function rejection(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidMessageError);
    return (error as Error).message;
  }
  throw new Error('expected an InvalidMessageError');
}

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
    expect(rejection(() => commandOrderId(command({ orderId }, '42')))).toContain('orderId');
  });

  it('rejects an orderId that is not the correlation id', () => {
    expect(rejection(() => commandOrderId(command({ orderId: '41' }, '42')))).toContain(
      'correlationId',
    );
  });
});
