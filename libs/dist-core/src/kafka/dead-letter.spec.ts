import { describe, expect, it } from '@jest/globals';
import type { KafkaMessage } from 'kafkajs';
import {
  deadLetterMessage,
  deadLetterTopic,
  describeError,
  readDeadLetter,
} from './dead-letter.js';
import { InvalidMessageError } from './message-errors.js';

function received(value: string, headers: KafkaMessage['headers'] = {}): KafkaMessage {
  return {
    key: Buffer.from('42'),
    value: Buffer.from(value),
    timestamp: '0',
    attributes: 0,
    offset: '17',
    headers,
  } as KafkaMessage;
}

/** What a consumer of the .dlq topic sees: header values come back as Buffers. */
function asReceived(message: ReturnType<typeof deadLetterMessage>): KafkaMessage {
  const headers = Object.fromEntries(
    Object.entries(message.headers ?? {}).map(([k, v]) => [k, Buffer.from(String(v))]),
  );
  return {
    ...received(''),
    key: message.key as Buffer,
    value: message.value as Buffer,
    headers,
  } as KafkaMessage;
}

describe('dead letters', () => {
  it('keep the record byte for byte and say where it came from and why', () => {
    const original = received('{not json', { traceparent: Buffer.from('00-abc') });
    const letter = deadLetterMessage({
      topic: 'inventory.commands',
      partition: 2,
      message: original,
      error: new InvalidMessageError('quantity must be positive'),
      attempts: 1,
      consumerGroup: 'inventory-service',
      failedAt: new Date('2026-01-01T00:00:00Z'),
    });
    expect(letter.value).toBe(original.value);
    expect(letter.key).toBe(original.key);
    expect(readDeadLetter(asReceived(letter))).toEqual({
      error: 'InvalidMessageError: quantity must be positive',
      topic: 'inventory.commands',
      partition: 2,
      offset: '17',
      attempts: 1,
      consumerGroup: 'inventory-service',
      failedAt: '2026-01-01T00:00:00.000Z',
      key: '42',
      value: '{not json',
    });
    expect(letter.headers?.traceparent).toEqual(Buffer.from('00-abc'));
  });

  it('go to <topic>.dlq', () => {
    expect(deadLetterTopic('payment.commands')).toBe('payment.commands.dlq');
  });

  it('describe whatever was thrown', () => {
    expect(describeError(new TypeError('x'))).toBe('TypeError: x');
    expect(describeError({ status: 'error', message: 'Internal server error' })).toBe(
      '{"status":"error","message":"Internal server error"}',
    );
    expect(describeError(undefined)).toBe('undefined');
  });
});
