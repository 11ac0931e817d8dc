// Poison messages against the real Kafka: each kind goes to <topic>.dlq with its error, and
// the message after it is processed normally, in order, by the same consumer.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  defineMessages,
  InvalidMessageError,
  message,
  OnMessage,
  type Envelope,
  type KafkaClient,
} from '@app/dist-core/kafka';
import {
  deadLetterTopic,
  readDeadLetter,
  type DeadLetter,
  type KafkaMessageContext,
} from '@app/dist-core/kafka/testing';
import { produce, startConsumerApp, testEnvelope } from '../support/consumer-app.js';
import { connectKafka, eventually, runSuffix, TopicRecorder } from '../support/kafka.js';

const RUN = runSuffix();
const TOPIC = `test-messaging.dlq.${RUN}`;
const OTHER_TOPIC = `test-messaging.dlq-other.${RUN}`;
const MAX_ATTEMPTS = 3;

const messages = defineMessages({
  'dlq.record': message<{ n: number }>(TOPIC),
  'dlq.flaky': message<{ n: number; failures: number }>(TOPIC),
  'dlq.orphan': message<object>(TOPIC),
  'dlq.elsewhere': message<object>(OTHER_TOPIC),
});

/** What the handlers did, in order. */
const processed: number[] = [];
const flakyAttempts = new Map<number, number[]>();

@Controller()
class PoisonTestHandlers {
  @EventPattern('dlq.record')
  record(@Payload() envelope: Envelope<{ n: number }>): void {
    if (!(envelope.payload.n > 0)) throw new InvalidMessageError('n must be positive');
    processed.push(envelope.payload.n);
  }

  // The typed form: the type is checked against the contracts, the payload typed from them.
  @OnMessage(messages, 'dlq.flaky')
  async flaky(
    @Payload() envelope: Envelope<{ n: number; failures: number }>,
    @Ctx() context: KafkaMessageContext,
  ): Promise<void> {
    const { n, failures } = envelope.payload;
    flakyAttempts.set(n, [...(flakyAttempts.get(n) ?? []), context.attempt]);
    if (context.attempt <= failures) throw new Error('database unavailable');
    processed.push(n);
  }
}

@Module({ controllers: [PoisonTestHandlers] })
class PoisonTestModule {}

describe('KafkaConsumerServer with poison messages', () => {
  let kafka: KafkaClient;
  let app: INestMicroservice;
  let dlq: TopicRecorder;

  beforeAll(async () => {
    kafka = await connectKafka('test-messaging-dlq');
    app = await startConsumerApp(PoisonTestModule, kafka, {
      groupId: `test-messaging-dlq-${RUN}`,
      messages,
      maxAttempts: MAX_ATTEMPTS,
      retryBackoffMs: 20,
    });
    dlq = new TopicRecorder(kafka, `test-messaging-dlq-reader-${RUN}`);
    await dlq.start([deadLetterTopic(TOPIC)]);
  });

  afterAll(async () => {
    await app?.close();
    await dlq?.stop();
    await kafka?.disconnectProducer();
    await kafka?.disconnectAdmin();
  });

  it('created the topic and its dead-letter topic before subscribing', async () => {
    const admin = kafka.kafka.admin();
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    expect(topics).toEqual(expect.arrayContaining([TOPIC, deadLetterTopic(TOPIC), OTHER_TOPIC]));
  });

  it('dead-letters each poison message and processes the next one normally', async () => {
    // One key, so one partition: the good messages must come through in order.
    const sequence = [
      '{not json',
      testEnvelope('dlq.record', { n: 1 }),
      testEnvelope('dlq.nobody', { n: 0 }),
      testEnvelope('dlq.record', { n: 2 }),
      testEnvelope('dlq.record', { n: -1 }),
      testEnvelope('dlq.record', { n: 3 }),
      testEnvelope('dlq.flaky', { n: 100, failures: 99 }),
      testEnvelope('dlq.record', { n: 4 }),
      testEnvelope('dlq.flaky', { n: 5, failures: MAX_ATTEMPTS - 1 }),
      testEnvelope('dlq.orphan', {}),
      testEnvelope('dlq.elsewhere', {}),
      testEnvelope('dlq.record', { n: 6 }),
    ];
    await produce(kafka, TOPIC, sequence);

    await eventually('the last good message processed', () => processed.includes(6));
    expect(processed).toEqual([1, 2, 3, 4, 5, 6]);
    // Retried up to the limit, then dead-lettered; or succeeding on the last attempt.
    expect(flakyAttempts.get(100)).toEqual([1, 2, 3]);
    expect(flakyAttempts.get(5)).toEqual([1, 2, 3]);

    await eventually('six dead letters', () => dlq.of(deadLetterTopic(TOPIC)).length >= 6);
    const letters = dlq.of(deadLetterTopic(TOPIC)).map(readDeadLetter);
    const summary = letters.map((letter: DeadLetter) => [letter.attempts, letter.error]);
    expect(summary).toEqual([
      [0, 'MalformedEnvelopeError: Malformed envelope: not JSON'],
      [0, 'UnknownMessageTypeError: message type dlq.nobody is not declared'],
      [1, 'InvalidMessageError: n must be positive'],
      [MAX_ATTEMPTS, 'Error: database unavailable'],
      [
        0,
        `UnknownMessageTypeError: no handler for message type dlq.orphan in test-messaging-dlq-${RUN}`,
      ],
      [
        0,
        `UnknownMessageTypeError: message type dlq.elsewhere belongs on ${OTHER_TOPIC}, not ${TOPIC}`,
      ],
    ]);
    // The record itself is kept as it was, with where it came from.
    expect(letters[0]).toMatchObject({ value: '{not json', topic: TOPIC, key: '4242' });
    const invalid = JSON.parse(letters[2].value ?? '') as Envelope;
    expect(invalid.payload).toEqual({ n: -1 });
    expect(new Set(letters.map((letter) => letter.partition)).size).toBe(1);
    expect(letters.map((letter) => BigInt(letter.offset))).toEqual(
      [...letters.map((letter) => BigInt(letter.offset))].sort((a, b) => (a < b ? -1 : 1)),
    );
  });
});

@Controller()
class UndeclaredHandler {
  @EventPattern('dlq.typo')
  handle(@Payload() _envelope: Envelope): void {}
}

@Module({ controllers: [UndeclaredHandler] })
class UndeclaredModule {}

describe('KafkaConsumerServer start-up', () => {
  it('refuses a handler for a message type no contract declares', async () => {
    const kafka = await connectKafka('test-messaging-dlq-startup');
    try {
      await expect(
        startConsumerApp(UndeclaredModule, kafka, {
          groupId: `test-messaging-typo-${RUN}`,
          messages,
        }),
      ).rejects.toThrow(/dlq.typo.*no message contract declares this type/);
    } finally {
      await kafka.disconnectProducer();
      await kafka.disconnectAdmin();
    }
  });
});
