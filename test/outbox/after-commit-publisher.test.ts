// The outbox's after-commit path against the real Postgres and Kafka, with no relay running
// unless a test starts one: a committed transaction's rows reach Kafka and are marked sent; a
// rolled-back one's never do; the marks of several publishes share one UPDATE; a row queued behind an older unsent row of its key, a row a
// savepoint may have taken away, and a row Kafka refused are all left to the relay — at once
// in the first two cases, after the relay delay in the last — and the relay keeps key order.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource, EntityManager } from 'typeorm';
import { decodeEnvelope } from '@app/dist-core/kafka/testing';
import {
  AfterCommitPublisher,
  leaveToRelay,
  Outbox,
  OutboxRelay,
  type OutboxMessage,
} from '@app/dist-core/outbox';
import { fixedWorkerId, SnowflakeGenerator } from '@app/dist-core/snowflake';
import type { KafkaClient } from '@app/dist-core/kafka';
import { connectKafka, eventually, runSuffix, TopicRecorder } from '../support/kafka.js';
import { openSchema, schemaDataSource } from '../support/messaging-db.js';

const RUN = runSuffix();
const TOPIC = `test-messaging.after-commit.${RUN}`;
const outbox = new Outbox(new SnowflakeGenerator(fixedWorkerId(12)));
const RELAY_DELAY_MS = 1500;

interface RowState {
  sent: boolean;
  relay_now: boolean;
}

describe('AfterCommitPublisher', () => {
  let db: DataSource;
  let kafka: KafkaClient;
  let recorder: TopicRecorder;
  let publisher: AfterCommitPublisher;
  let key = 5000;

  const message = (correlationId: string, n: number): OutboxMessage => ({
    topic: TOPIC,
    type: 'after-commit.test',
    correlationId,
    payload: { n },
  });
  const publishedIds = (): string[] => recorder.of(TOPIC).map((m) => decodeEnvelope(m.value).id);
  const state = async (id: string): Promise<RowState> => {
    const [row] = await db.query(
      `SELECT sent_at IS NOT NULL AS sent, relay_after <= now() AS relay_now
       FROM outbox WHERE id = $1`,
      [id],
    );
    return row;
  };
  const enqueueIn = <T>(work: (manager: EntityManager) => Promise<T>): Promise<T> =>
    db.transaction(work);

  /** `work` on a second pool of the schema with `publisher` attached; stopped and closed after. */
  const onPoolWith = async (
    publisher: AfterCommitPublisher,
    work: (pool: DataSource) => Promise<void>,
  ): Promise<void> => {
    const pool = schemaDataSource('after_commit', 2);
    await pool.initialize();
    publisher.attach(pool);
    try {
      await work(pool);
    } finally {
      await publisher.stop();
      await pool.destroy();
    }
  };

  beforeAll(async () => {
    db = await openSchema('after_commit');
    kafka = await connectKafka('test-messaging-after-commit');
    await kafka.ensureTopics([{ topic: TOPIC, numPartitions: 3 }]);
    recorder = new TopicRecorder(kafka, `test-messaging-after-commit-${RUN}`);
    await recorder.start([TOPIC]);
    publisher = new AfterCommitPublisher(kafka.producer, { relayDelayMs: RELAY_DELAY_MS });
    publisher.attach(db);
  });

  afterAll(async () => {
    await publisher?.stop();
    await recorder?.stop();
    await kafka?.disconnectProducer();
    await kafka?.disconnectAdmin();
    await db?.destroy();
  });

  it('publishes a committed transaction’s rows in order, with their headers, and marks them sent', async () => {
    const correlationId = String(key++);
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const [first, second] = await enqueueIn(async (manager) => [
      await outbox.enqueue(manager, { ...message(correlationId, 1), headers: { traceparent } }),
      await outbox.enqueue(manager, message(correlationId, 2)),
    ]);
    await eventually('both published', () =>
      [first.id, second.id].every((id) => publishedIds().includes(id)),
    );
    const mine = recorder.of(TOPIC).filter((m) => m.key?.toString() === correlationId);
    expect(mine.map((m) => decodeEnvelope(m.value))).toEqual([first, second]);
    // The producer span's own traceparent, child of the stored one: same trace id.
    expect(mine[0].headers?.traceparent?.toString()).toContain(traceparent.slice(3, 35));
    await eventually('marked sent', async () => (await state(second.id)).sent);
    // Left to this path: the relay would only have taken them after the delay.
    expect(await state(first.id)).toEqual({ sent: true, relay_now: false });
  });

  it('marks the rows of several publishes with one UPDATE; meanwhile their key keeps the fast path', async () => {
    const updates: string[][] = [];
    const slowMarks = new AfterCommitPublisher(kafka.producer, {
      relayDelayMs: RELAY_DELAY_MS,
      markSentAfterMs: 1000,
    });
    await onPoolWith(slowMarks, async (other) => {
      const query = other.query.bind(other);
      other.query = ((sql: string, parameters?: unknown[]) => {
        if (sql.startsWith('UPDATE outbox SET sent_at')) updates.push(parameters![0] as string[]);
        return query(sql, parameters);
      }) as typeof other.query;
      const correlationId = String(key++);
      const first = await other.transaction((manager) =>
        outbox.enqueue(manager, message(correlationId, 1)),
      );
      await eventually('the first published', () => publishedIds().includes(first.id));
      // Published, not yet marked: the next row of its key need not wait for the relay.
      expect(await state(first.id)).toEqual({ sent: false, relay_now: false });
      const second = await other.transaction((manager) =>
        outbox.enqueue(manager, message(correlationId, 2)),
      );
      expect(await state(second.id)).toEqual({ sent: false, relay_now: false });
      await eventually('the second published', () => publishedIds().includes(second.id));
      await eventually('both marked sent', async () => (await state(second.id)).sent);
      expect(await state(first.id)).toEqual({ sent: true, relay_now: false });
      expect(updates).toEqual([[first.id, second.id]]);
      const order = publishedIds().filter((id) => id === first.id || id === second.id);
      expect(order).toEqual([first.id, second.id]);
    });
  });

  it('never publishes the rows of a rolled-back transaction', async () => {
    let enqueued = '';
    await expect(
      enqueueIn(async (manager) => {
        enqueued = (await outbox.enqueue(manager, message(String(key++), 1))).id;
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    const marker = await enqueueIn((manager) => outbox.enqueue(manager, message(String(key++), 2)));
    await eventually('a later commit published', () => publishedIds().includes(marker.id));
    expect(publishedIds()).not.toContain(enqueued);
  });

  it('leaves a row behind an older unsent row of its key to the relay, which keeps the order', async () => {
    const correlationId = String(key++);
    // An older row the after-commit path never got (its process died before publishing it).
    const stranded = await enqueueIn(async (manager) => {
      const envelope = await outbox.enqueue(manager, message(correlationId, 1));
      leaveToRelay(manager.queryRunner!);
      return envelope;
    });
    const newer = await enqueueIn((manager) => outbox.enqueue(manager, message(correlationId, 2)));
    // The newer one is the relay's at once (it must follow the older one), and not sent here.
    expect(await state(newer.id)).toEqual({ sent: false, relay_now: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(publishedIds()).not.toContain(newer.id);

    const relay = new OutboxRelay(db, kafka.producer);
    // The older row is still inside its delay, so the newer one must wait too.
    expect(await relay.publishBatch()).toEqual({ claimed: 1, published: 0 });
    await eventually('older row claimable', async () => (await state(stranded.id)).relay_now);
    expect(await relay.publishBatch()).toEqual({ claimed: 2, published: 2 });
    await eventually('both received', () =>
      [stranded.id, newer.id].every((id) => publishedIds().includes(id)),
    );
    const order = publishedIds().filter((id) => id === stranded.id || id === newer.id);
    expect(order).toEqual([stranded.id, newer.id]);
  });

  it('never publishes a row a savepoint rolled back (leaveToRelay)', async () => {
    let rolledBack = '';
    const kept = await enqueueIn(async (manager) => {
      const runner = manager.queryRunner!;
      await runner.query('SAVEPOINT body');
      rolledBack = (await outbox.enqueue(manager, message(String(key++), 1))).id;
      await runner.query('ROLLBACK TO SAVEPOINT body');
      leaveToRelay(runner);
      return outbox.enqueue(manager, message(String(key++), 2));
    });
    // Rows enqueued after the savepoint's rollback take the after-commit path again.
    await eventually('the later row published', () => publishedIds().includes(kept.id));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(publishedIds()).not.toContain(rolledBack);
  });

  it('leaves rows that waited out the relay delay behind a hung send to the relay', async () => {
    const sent: string[][] = [];
    let firstSend = true;
    const hanging = new AfterCommitPublisher(
      {
        sendBatch: async (batch) => {
          // The first send hangs past the delay, as one does while Kafka is away.
          if (firstSend) {
            firstSend = false;
            await new Promise((resolve) => setTimeout(resolve, RELAY_DELAY_MS + 1500));
          }
          sent.push(
            (batch.topicMessages ?? []).flatMap((t) =>
              t.messages.map((m) => decodeEnvelope(Buffer.from(String(m.value))).id),
            ),
          );
          return kafka.producer.sendBatch(batch);
        },
      },
      { relayDelayMs: RELAY_DELAY_MS },
    );
    await onPoolWith(hanging, async (other) => {
      const first = await other.transaction((manager) =>
        outbox.enqueue(manager, message(String(key++), 1)),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      const waiting = await other.transaction((manager) =>
        outbox.enqueue(manager, message(String(key++), 2)),
      );
      await hanging.stop();
      // The hung send went out; the row queued behind it was not sent by this path.
      expect(sent).toEqual([[first.id]]);
      expect(await state(waiting.id)).toEqual({ sent: false, relay_now: true });
      const relay = new OutboxRelay(other, kafka.producer);
      expect(await relay.publishBatch()).toEqual({ claimed: 1, published: 1 });
      await eventually('received', () => publishedIds().includes(waiting.id));
    });
  });

  it('leaves a row Kafka refused to the relay, which takes it only after the delay', async () => {
    const refusing = new AfterCommitPublisher(
      { sendBatch: () => Promise.reject(new Error('broker unavailable')) },
      { relayDelayMs: RELAY_DELAY_MS },
    );
    await onPoolWith(refusing, async (other) => {
      const refused = await other.transaction((manager) =>
        outbox.enqueue(manager, message(String(key++), 1)),
      );
      const committedAt = Date.now();
      const relay = new OutboxRelay(other, kafka.producer);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await state(refused.id)).toEqual({ sent: false, relay_now: false });
      expect((await relay.publishBatch()).published).toBe(0);

      await eventually(
        'relay publishes it',
        async () => (await relay.publishBatch()).published > 0,
      );
      expect(Date.now() - committedAt).toBeGreaterThanOrEqual(RELAY_DELAY_MS - 200);
      await eventually('received', () => publishedIds().includes(refused.id));
    });
  });
});
