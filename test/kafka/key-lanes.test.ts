// One partition carrying several orders: KafkaConsumerServer handles different keys at once and
// the messages of one key one after another, in offset order, against the real Kafka.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  defineMessages,
  message,
  OnMessage,
  type Envelope,
  type KafkaClient,
} from '@app/dist-core/kafka';
import { produce, startConsumerApp, testEnvelope } from '../support/consumer-app.js';
import { connectKafka, eventually, runSuffix } from '../support/kafka.js';

const RUN = runSuffix();
const TOPIC = `test-messaging.lanes.${RUN}`;
const KEYS = ['101', '202', '303', '404', '505', '606'];
const PER_KEY = 8;

const messages = defineMessages({ 'lanes.step': message<{ n: number }>(TOPIC) });

/** Per key, the n of each message as its handler started and finished. */
const started = new Map<string, number[]>();
const finished = new Map<string, number[]>();
let running = 0;
let mostRunning = 0;
const overlapsWithinKey: string[] = [];

@Controller()
class LaneHandlers {
  @OnMessage(messages, 'lanes.step')
  async step(@Payload() envelope: Envelope<{ n: number }>): Promise<void> {
    const key = envelope.correlationId;
    const { n } = envelope.payload;
    if ((started.get(key)?.length ?? 0) !== (finished.get(key)?.length ?? 0)) {
      overlapsWithinKey.push(`${key}#${n}`);
    }
    started.set(key, [...(started.get(key) ?? []), n]);
    running += 1;
    mostRunning = Math.max(mostRunning, running);
    // Uneven handler times: a later message of a fast key would overtake a slow one's.
    await new Promise((resolve) => setTimeout(resolve, 5 + ((n * 7 + Number(key)) % 4) * 10));
    running -= 1;
    finished.set(key, [...(finished.get(key) ?? []), n]);
  }
}

@Module({ controllers: [LaneHandlers] })
class LaneTestModule {}

describe('KafkaConsumerServer key lanes', () => {
  let kafka: KafkaClient;
  let app: INestMicroservice;

  beforeAll(async () => {
    kafka = await connectKafka('test-messaging-lanes');
    app = await startConsumerApp(LaneTestModule, kafka, {
      groupId: `test-messaging-lanes-${RUN}`,
      messages,
      partitionsPerTopic: 1,
      keysConsumedConcurrently: 4,
    });
  });

  afterAll(async () => {
    await app?.close();
    await kafka?.disconnectProducer();
    await kafka?.disconnectAdmin();
  });

  it('keeps each key in order while keys of one partition run at once', async () => {
    // Interleaved, in one produce request: one partition, one batch for the consumer.
    const envelopes = Array.from({ length: PER_KEY }, (_, n) =>
      KEYS.map((key) => testEnvelope('lanes.step', { n }, key)),
    ).flat();
    await produce(kafka, TOPIC, envelopes);

    await eventually('every message handled', () =>
      KEYS.every((key) => finished.get(key)?.length === PER_KEY),
    );
    const inOrder = Array.from({ length: PER_KEY }, (_, n) => n);
    for (const key of KEYS) {
      expect(started.get(key)).toEqual(inOrder);
      expect(finished.get(key)).toEqual(inOrder);
    }
    expect(overlapsWithinKey).toEqual([]);
    expect(mostRunning).toBeGreaterThan(1);
    expect(mostRunning).toBeLessThanOrEqual(4);
  });
});
