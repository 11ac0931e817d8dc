import { describe, expect, it } from '@jest/globals';
import { InvalidMessageError, type Envelope } from '@app/dist-core/kafka';
import { checkParticipantReply } from './flow-replies.message.controller.js';

const reply = (type: string, payload: object): Envelope => ({
  id: '914165721940434945',
  type,
  correlationId: '914165721940434944',
  causationId: '914165721940434946',
  createdAt: new Date().toISOString(),
  payload,
});

describe('checkParticipantReply', () => {
  it.each([
    ['inventory.saga.reply', { outcome: 'SUCCESS', items: [], totalCents: 1 }],
    ['inventory.tcc.reply', { outcome: 'FAILURE', reason: 'OUT_OF_STOCK' }],
    ['inventory.saga.reply', { outcome: 'FAILURE', reason: 'UNKNOWN_PRODUCT' }],
    ['payment.saga.reply', { outcome: 'FAILURE', reason: 'INSUFFICIENT_FUNDS' }],
    ['payment.tcc.reply', { outcome: 'FAILURE', reason: 'UNKNOWN_CUSTOMER' }],
    ['payment.tcc.reply', { outcome: 'FAILURE', reason: 'REFUSED' }],
    ['inventory.tcc.reply', { outcome: 'SUCCESS' }],
  ])('takes %s %j', (type, payload) => {
    expect(checkParticipantReply(reply(type, payload))).toEqual(payload);
  });

  it.each([
    [
      'a reason of the other participant',
      'inventory.saga.reply',
      { outcome: 'FAILURE', reason: 'INSUFFICIENT_FUNDS' },
    ],
    [
      'a reason of the other participant',
      'payment.tcc.reply',
      { outcome: 'FAILURE', reason: 'OUT_OF_STOCK' },
    ],
    [
      'free text as the reason',
      'payment.saga.reply',
      { outcome: 'FAILURE', reason: 'x'.repeat(20_000) },
    ],
    [
      'TIMEOUT, which only the order service decides',
      'payment.saga.reply',
      { outcome: 'FAILURE', reason: 'TIMEOUT' },
    ],
    ['a FAILURE without a reason', 'inventory.tcc.reply', { outcome: 'FAILURE' }],
    ['a reason that is not a string', 'inventory.tcc.reply', { outcome: 'FAILURE', reason: 7 }],
    [
      'a SUCCESS with a reason',
      'inventory.tcc.reply',
      { outcome: 'SUCCESS', reason: 'OUT_OF_STOCK' },
    ],
    ['another outcome', 'inventory.tcc.reply', { outcome: 'MAYBE' }],
    ['a type of no participant', 'saga.reply', { outcome: 'SUCCESS' }],
  ])('dead-letters a reply with %s', (_what, type, payload) => {
    const check = () => checkParticipantReply(reply(type, payload));
    expect(check).toThrow(InvalidMessageError);
    // The error names the type, never the reply's own text.
    expect(check).toThrow(/^(?!.*xxxx)/s);
  });
});
