import { describe, expect, it } from '@jest/globals';
import { InvalidMessageError } from '@app/dist-core/kafka';
import { commandEnvelope } from '@app/dist-core/barrier/testing';
import { parseFundsCommand } from './funds-commands.message.controller.js';

const ORDER_ID = '9223372036854775807';
const envelope = (payload: unknown) => commandEnvelope('payment.tcc.try', payload);

const valid = { orderId: ORDER_ID, customerId: 'cust-1.a_B', amountCents: 1 };

describe('parseFundsCommand', () => {
  it('returns the three fields of a valid payload, ignoring the coordinator’s extras', () => {
    expect(parseFundsCommand(envelope({ ...valid, gid: ORDER_ID, branch: 'payment' }))).toEqual(
      valid,
    );
    expect(parseFundsCommand(envelope({ ...valid, amountCents: Number.MAX_SAFE_INTEGER }))).toEqual(
      { ...valid, amountCents: Number.MAX_SAFE_INTEGER },
    );
  });

  it.each([
    ['not an object', [valid], 'payload must be an object'],
    ['null', null, 'payload must be an object'],
    ['orderId missing', { ...valid, orderId: undefined }, 'orderId'],
    ['orderId a number', { ...valid, orderId: 5 }, 'orderId'],
    ['orderId zero', { ...valid, orderId: '0' }, 'orderId'],
    ['orderId with a leading zero', { ...valid, orderId: '01' }, 'orderId'],
    ['orderId above 2^63 - 1', { ...valid, orderId: '9223372036854775808' }, 'orderId'],
    ['orderId of another order', { ...valid, orderId: '42' }, 'not the correlationId'],
    ['customerId missing', { ...valid, customerId: undefined }, 'customerId'],
    ['customerId empty', { ...valid, customerId: '' }, 'customerId'],
    ['customerId with a space', { ...valid, customerId: 'a b' }, 'customerId'],
    ['customerId of 65 characters', { ...valid, customerId: 'a'.repeat(65) }, 'customerId'],
    ['amountCents a string', { ...valid, amountCents: '5' }, 'amountCents'],
    ['amountCents negative', { ...valid, amountCents: -1 }, 'amountCents'],
    ['amountCents zero', { ...valid, amountCents: 0 }, 'amountCents'],
    ['amountCents fractional', { ...valid, amountCents: 1.5 }, 'amountCents'],
    ['amountCents beyond 2^53', { ...valid, amountCents: 2 ** 53 }, 'amountCents'],
  ])('rejects a payload with %s as an invalid message', (_case, payload, text) => {
    expect(() => parseFundsCommand(envelope(payload))).toThrow(InvalidMessageError);
    expect(() => parseFundsCommand(envelope(payload))).toThrow(text);
  });
});
