// The relay against the real Postgres and Kafka: several relays on one outbox publish every
// row, in per-key order; NOTIFY wakes a relay that would otherwise sleep for a minute, also
// after its LISTEN connection was killed; sent rows are purged an hour after sending.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ProducerBatch } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { KafkaClient, type Envelope } from '@app/dist-core/kafka';
import { decodeEnvelope } from '@app/dist-core/kafka/testing';
import {
  Outbox,
  OutboxRelay,
  OutboxRelays,
  outboxRelaysProvider,
  outboxRetention,
} from '@app/dist-core/outbox';
import { RetentionPurge } from '@app/dist-core/retention';
import { fixedWorkerId, SnowflakeGenerator } from '@app/dist-core/snowflake';
import { connectKafka, eventually, runSuffix, TopicRecorder } from '../support/kafka.js';
import { openSchema, schemaDataSource } from '../support/messaging-db.js';

const SCHEMA = 'relay';
const RUN = runSuffix();
const TOPIC = `test-messaging.relay.${RUN}`;
const outbox = new Outbox(new SnowflakeGenerator(fixedWorkerId(11)));

async function unsentCount(db: DataSource): Promise<number> {
  const [{ count }] = await db.query(
    'SELECT count(*)::int AS count FROM outbox WHERE sent_at IS NULL',
  );
  return count;
}

describe('OutboxRelay', () => {
  let db: DataSource;
  let kafka: KafkaClient;
  let recorder: TopicRecorder;

  beforeAll(async () => {
    db = await openSchema(SCHEMA);
    kafka = await connectKafka('test-messaging-relay');
    await kafka.ensureTopics([{ topic: TOPIC, numPartitions: 3 }]);
    recorder = new TopicRecorder(kafka, `test-messaging-relay-${RUN}`);
    await recorder.start([TOPIC]);
  });

  afterAll(async () => {
    await recorder?.stop();
    await kafka?.disconnectProducer();
    await kafka?.disconnectAdmin();
    await db?.destroy();
  });

  it('refuses to enqueue outside a transaction, and a rolled-back enqueue leaves nothing', async () => {
    const message = { topic: TOPIC, type: 't', correlationId: '1', payload: {} };
    await expect(outbox.enqueue(db.manager, message)).rejects.toThrow(/inside the transaction/);
    await expect(
      db.transaction(async (manager) => {
        await outbox.enqueue(manager, message);
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    expect(await unsentCount(db)).toBe(0);
  });

  it('publishes the envelope keyed by correlation id, with its trace and extra headers', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const envelope = await db.transaction((manager) =>
      outbox.enqueue(manager, {
        topic: TOPIC,
        type: 'relay.headers',
        correlationId: '914154380565987333',
        causationId: '914154380565987000',
        payload: { amountCents: 1250 },
        headers: { traceparent, 'x-tenant': 'acme' },
      }),
    );
    await new OutboxRelay(db, kafka.producer).publishBatch();
    await eventually('published', () =>
      recorder.of(TOPIC).some((m) => decodeEnvelope(m.value).id === envelope.id),
    );
    const published = recorder.of(TOPIC).find((m) => decodeEnvelope(m.value).id === envelope.id)!;
    expect(decodeEnvelope(published.value)).toEqual(envelope);
    expect(published.key?.toString()).toBe('914154380565987333');
    expect(published.headers?.traceparent?.toString()).toBe(traceparent);
    expect(published.headers?.['x-tenant']?.toString()).toBe('acme');
  });

  it('three relays publish every row at least once and each key in order', async () => {
    const KEYS = 12;
    const PER_KEY = 40;
    const pools = [0, 1, 2].map(() => schemaDataSource(SCHEMA, 2));
    await Promise.all(pools.map((pool) => pool.initialize()));
    // Four writers, each owning three keys and writing them in sequential transactions of
    // one to three messages, as a service does: one order's messages are causally ordered.
    const enqueued = new Map<string, string[]>();
    const write = async (from: number, to: number): Promise<void> => {
      await Promise.all(
        [0, 1, 2, 3].map(async (writer) => {
          for (let n = from; n < to; n += 1 + (n % 3)) {
            for (let k = writer; k < KEYS; k += 4) {
              const key = String(1000 + k);
              await db.transaction(async (manager) => {
                for (let i = 0; i < 1 + (n % 3); i++) {
                  const envelope = await outbox.enqueue(manager, {
                    topic: TOPIC,
                    type: 'relay.test',
                    correlationId: key,
                    payload: { n },
                  });
                  enqueued.set(key, [...(enqueued.get(key) ?? []), envelope.id]);
                }
              });
            }
          }
        }),
      );
    };
    // Half the rows wait as a backlog before the relays start, half arrive while they run.
    await write(0, PER_KEY / 2);
    // Small batches, a fast poll and network jitter on each send, so the relays' claims
    // interleave and their sends finish out of claim order: a relay that published whatever
    // SKIP LOCKED gave it would reorder keys here.
    const sentBy = [0, 0, 0];
    const relays = pools.map((pool, i) => {
      const jitteryProducer = {
        sendBatch: async (batch: ProducerBatch) => {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
          const result = await kafka.producer.sendBatch(batch);
          for (const { messages } of batch.topicMessages ?? []) sentBy[i] += messages.length;
          return result;
        },
      };
      return new OutboxRelay(pool, jitteryProducer, {
        name: `r${i}`,
        batchSize: 7,
        pollIntervalMs: 5,
      });
    });
    relays.forEach((relay) => relay.start());
    await write(PER_KEY / 2, PER_KEY);
    const total = [...enqueued.values()].reduce((sum, ids) => sum + ids.length, 0);

    await eventually('every row marked sent', async () => (await unsentCount(db)) === 0, 40_000);
    await Promise.all(relays.map((relay) => relay.stop()));
    await Promise.all(pools.map((pool) => pool.destroy()));
    const relayed = (): Envelope[] =>
      recorder
        .of(TOPIC)
        .map((message) => decodeEnvelope(message.value))
        .filter((envelope) => envelope.type === 'relay.test');
    await eventually(
      'every row received',
      () => new Set(relayed().map((e) => e.id)).size === total,
      20_000,
    );

    const received = new Map<string, string[]>();
    for (const envelope of relayed()) {
      const ids = received.get(envelope.correlationId) ?? [];
      // A redelivered copy may repeat a row; a row may never come before an older one.
      if (!ids.includes(envelope.id)) ids.push(envelope.id);
      received.set(envelope.correlationId, ids);
    }
    // All three took part.
    expect(sentBy.every((count) => count > 0)).toBe(true);
    for (const [key, ids] of enqueued)
      expect({ key, ids: received.get(key) }).toEqual({ key, ids });
  }, 60_000);

  it('wakes on NOTIFY, also after its LISTEN connection was killed', async () => {
    const application = `relay-notify-${RUN}`;
    const pool = schemaDataSource(SCHEMA, 2);
    pool.setOptions({ applicationName: application });
    await pool.initialize();
    // A minute between polls: only a notification can make it publish within the test.
    const relay = new OutboxRelay(pool, kafka.producer, { pollIntervalMs: 60_000 });
    relay.start();
    const listener = async (): Promise<number | undefined> => {
      const rows: { pid: number }[] = await db.query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query = 'LISTEN outbox'",
        [application],
      );
      return rows[0]?.pid;
    };
    const publishOne = async (n: number): Promise<number> => {
      const envelope = await db.transaction((manager) =>
        outbox.enqueue(manager, {
          topic: TOPIC,
          type: 'relay.notify',
          correlationId: '7',
          payload: { n },
        }),
      );
      const started = Date.now();
      await eventually(`message ${n} published`, () =>
        recorder.of(TOPIC).some((m) => decodeEnvelope(m.value).id === envelope.id),
      );
      return Date.now() - started;
    };
    try {
      await eventually('relay listening', async () => (await listener()) !== undefined);
      expect(await publishOne(1)).toBeLessThan(3000);

      const killed = await listener();
      await db.query('SELECT pg_terminate_backend($1)', [killed]);
      await eventually('relay listening again', async () => {
        const pid = await listener();
        return pid !== undefined && pid !== killed;
      });
      expect(await publishOne(2)).toBeLessThan(3000);
    } finally {
      await relay.stop();
      await pool.destroy();
    }
  });

  it('leaves sent rows to the purge, which deletes them an hour after they were sent', async () => {
    await db.transaction(async (manager) => {
      for (const n of [1, 2]) {
        await outbox.enqueue(manager, {
          topic: TOPIC,
          type: 'relay.retention',
          correlationId: '9',
          payload: { n },
        });
      }
    });
    const relay = new OutboxRelay(db, kafka.producer);
    expect(await relay.publishBatch()).toEqual({ claimed: 2, published: 2 });
    // RETENTION_HOURS does not apply to sent outbox rows: 0 here changes nothing.
    const purge = new RetentionPurge(
      [{ name: 'relay', dataSource: db, retention: [outboxRetention] }],
      {
        retentionMs: 0,
        intervalMs: 60_000,
        batchSize: 1,
      },
    );
    expect(await purge.purgeOnce()).toEqual({ 'relay.outbox': 0 });

    await db.query(
      "UPDATE outbox SET sent_at = sent_at - interval '61 minutes' WHERE sent_at IS NOT NULL",
    );
    await db.transaction((manager) =>
      outbox.enqueue(manager, {
        topic: TOPIC,
        type: 'relay.retention',
        correlationId: '9',
        payload: { n: 3 },
      }),
    );
    const { 'relay.outbox': deleted } = await purge.purgeOnce();
    expect(deleted).toBeGreaterThanOrEqual(2);
    const left: { sent: boolean }[] = await db.query(
      'SELECT sent_at IS NOT NULL AS sent FROM outbox',
    );
    expect(left).toEqual([{ sent: false }]);
  });
});

describe('outboxRelaysProvider', () => {
  it('starts a relay per database with the application and stops it on close', async () => {
    const DATABASES = Symbol('DATABASES');
    const db = await openSchema('relay_provider');
    const kafka = await connectKafka('test-messaging-relay-provider');
    const topic = `test-messaging.relay-provider.${RUN}`;
    await kafka.ensureTopics([{ topic, numPartitions: 1 }]);

    @Module({
      providers: [
        {
          provide: DATABASES,
          useValue: { all: () => [{ name: 'provider_test', dataSource: db }] },
        },
        { provide: KafkaClient, useValue: kafka },
        outboxRelaysProvider(DATABASES),
      ],
    })
    class RelayModule {}

    const app = await NestFactory.createApplicationContext(RelayModule, { logger: ['error'] });
    await app.init();
    try {
      const envelope = await db.transaction((manager) =>
        outbox.enqueue(manager, { topic, type: 'relay.provider', correlationId: '3', payload: {} }),
      );
      await eventually('marked sent', async () => {
        const [row] = await db.query('SELECT sent_at FROM outbox WHERE id = $1', [envelope.id]);
        return row.sent_at !== null;
      });
    } finally {
      await app.close();
    }
    expect(app.get(OutboxRelays).relays).toHaveLength(1);
    // Stopped: a row enqueued now stays unsent.
    await db.transaction((manager) =>
      outbox.enqueue(manager, { topic, type: 'relay.provider', correlationId: '3', payload: {} }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(
      await db.query('SELECT count(*)::int AS count FROM outbox WHERE sent_at IS NULL'),
    ).toEqual([{ count: 1 }]);
    await kafka.disconnectProducer();
    await kafka.disconnectAdmin();
    await db.destroy();
  });
});
