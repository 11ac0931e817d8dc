// The Kafka broker of `npm run infra:up` (or KAFKA_BROKERS) carries a keyed message from a
// producer to a consumer group: the path every saga and TCC message takes.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, Partitioners, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import { DEFAULTS, env, loadConfig } from '@app/dist-core/config';
import { adminCredentials, saslOptions } from '@app/dist-core/kafka';

const { KAFKA_BROKERS } = loadConfig({ KAFKA_BROKERS: env.hostPorts(DEFAULTS.KAFKA_BROKERS) });

describe('Kafka broker', () => {
  // Unique per run, so a re-run never reads an earlier run's messages.
  const runId = randomUUID();
  const topic = `infra-test-${runId}`;
  // Failures reach the test as rejected promises with the broker's error; kafkajs's own log
  // would only repeat them, and keep printing after the test has failed.
  const kafka = new Kafka({
    clientId: 'infra-test',
    brokers: KAFKA_BROKERS,
    // admin: the broker's super user may create a topic of its own (services may not).
    sasl: saslOptions(adminCredentials()),
    retry: { retries: 3 },
    logLevel: logLevel.NOTHING,
  });
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer;

  beforeAll(async () => {
    admin = kafka.admin();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    // Short fetch waits and frequent heartbeats: the message arrives a fraction of a second
    // after it is produced, and the whole test takes about a second.
    consumer = kafka.consumer({
      groupId: `infra-test-${runId}`,
      sessionTimeout: 6000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 100,
    });
    await admin.connect(); // first alone: with no broker, fail here with one clear error
    await Promise.all([producer.connect(), consumer.connect()]);
    // auto.create.topics.enable=false on the broker: topics exist only when created.
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    expect(created).toBe(true);
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('delivers the exact key and value produced', async () => {
    const key = `order-${runId}`;
    // Shaped like the services' messages; the non-ASCII note checks the UTF-8 round trip.
    const value = JSON.stringify({ id: '7291046718193451008', totalCents: 12345, note: 'zażółć' });

    await consumer.subscribe({ topic, fromBeginning: true });
    const received = new Promise<{ key: string | undefined; value: string | undefined }>(
      (resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            resolve({ key: message.key?.toString(), value: message.value?.toString() });
          },
        });
      },
    );

    await producer.send({ topic, messages: [{ key, value }], acks: -1 });

    await expect(received).resolves.toEqual({ key, value });
  });
});
