import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { DEAD_LETTER_SUFFIX } from './message-catalog.js';

export function deadLetterTopic(topic: string): string {
  return `${topic}${DEAD_LETTER_SUFFIX}`;
}

/**
 * Headers added to a dead letter. The key, value and original headers are kept byte for
 * byte, so a fixed message can be replayed by producing the same record to `dlq.topic`.
 */
export const DEAD_LETTER_HEADERS = {
  error: 'dlq.error',
  topic: 'dlq.topic',
  partition: 'dlq.partition',
  offset: 'dlq.offset',
  attempts: 'dlq.attempts',
  consumerGroup: 'dlq.consumer-group',
  failedAt: 'dlq.failed-at',
} as const;

export interface DeadLetterReason {
  topic: string;
  partition: number;
  message: KafkaMessage;
  error: unknown;
  /** Handler runs that failed; 0 when the message never reached a handler. */
  attempts: number;
  consumerGroup: string;
  failedAt?: Date;
}

/** The error as one line: its class and message, or whatever was thrown, as JSON. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

export function deadLetterMessage(reason: DeadLetterReason): Message {
  const { message } = reason;
  return {
    key: message.key,
    value: message.value,
    headers: {
      ...(message.headers as IHeaders | undefined),
      [DEAD_LETTER_HEADERS.error]: describeError(reason.error).slice(0, 4096),
      [DEAD_LETTER_HEADERS.topic]: reason.topic,
      [DEAD_LETTER_HEADERS.partition]: String(reason.partition),
      [DEAD_LETTER_HEADERS.offset]: message.offset,
      [DEAD_LETTER_HEADERS.attempts]: String(reason.attempts),
      [DEAD_LETTER_HEADERS.consumerGroup]: reason.consumerGroup,
      [DEAD_LETTER_HEADERS.failedAt]: (reason.failedAt ?? new Date()).toISOString(),
    },
  };
}

export interface DeadLetter {
  error: string;
  topic: string;
  partition: number;
  offset: string;
  attempts: number;
  consumerGroup: string;
  failedAt: string;
  key: string | null;
  /** The original value as text (a message too broken to decode is still readable here). */
  value: string | null;
}

/** Reads a record of a `.dlq` topic (for operators, replay tools and tests). */
export function readDeadLetter(message: KafkaMessage): DeadLetter {
  const header = (name: string): string => headerText(message.headers, name) ?? '';
  return {
    error: header(DEAD_LETTER_HEADERS.error),
    topic: header(DEAD_LETTER_HEADERS.topic),
    partition: Number(header(DEAD_LETTER_HEADERS.partition)),
    offset: header(DEAD_LETTER_HEADERS.offset),
    attempts: Number(header(DEAD_LETTER_HEADERS.attempts)),
    consumerGroup: header(DEAD_LETTER_HEADERS.consumerGroup),
    failedAt: header(DEAD_LETTER_HEADERS.failedAt),
    key: message.key?.toString('utf8') ?? null,
    value: message.value?.toString('utf8') ?? null,
  };
}

/** A header as text: kafkajs hands headers over as Buffers (or arrays of them, if repeated). */
export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}
