// The batch layer (kafka/message-batches.ts, batch/) against the real Kafka and Postgres: a
// partition's messages run in one local transaction, each handler's transaction a savepoint of
// it. A message that fails rolls back to its savepoint only and runs alone after the batch, and
// its key's later messages after it; a message that waits too long for a row lock is one that
// fails; the outbox rows of the batch are published after its COMMIT, never a rolled-back
// one's; and a process killed in the middle of a batch leaves none of it, its redelivery
// changing nothing twice.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestMicroservice } from '@nestjs/common';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DataSource } from 'typeorm';
import type { Envelope, KafkaClient } from '@app/dist-core/kafka';
import { decodeEnvelope } from '@app/dist-core/kafka/testing';
import { AfterCommitPublisher, OutboxRelay } from '@app/dist-core/outbox';
import { produce, startConsumerApp } from '../support/consumer-app.js';
import { connectKafka, eventually, runSuffix, TopicRecorder } from '../support/kafka.js';
import { openSchema } from '../support/messaging-db.js';
import { SnowflakeGenerator, fixedWorkerId } from '@app/dist-core/snowflake';
import {
  LEDGER_SQL,
  ledgerModule,
  stepMessages,
  type Runs,
  type Step,
} from './support/batch-ledger.js';

const SCHEMA = 'message_batches';
const RUN = runSuffix();
const TOPIC = `test-messaging.batches.${RUN}`;
const CRASH_TOPIC = `test-messaging.batches-crash.${RUN}`;
const REPLIES = `test-messaging.batches-done.${RUN}`;
const CHILD = fileURLToPath(new URL('./support/batch-child.ts', import.meta.url));
const BATCH = { maxMessages: 100, maxMs: 10_000 };
const ids = new SnowflakeGenerator(fixedWorkerId(16));

interface LedgerRow {
  id: string;
  key: string;
  n: number;
  tx: string;
}

function step(key: string, payload: Step): Envelope<Step> {
  return {
    id: ids.nextId(),
    type: 'batch.step',
    correlationId: key,
    causationId: null,
    createdAt: new Date().toISOString(),
    payload,
  };
}

describe('Kafka consumer batches', () => {
  let db: DataSource;
  let kafka: KafkaClient;
  let app: INestMicroservice;
  let recorder: TopicRecorder;
  let publisher: AfterCommitPublisher;
  const runs: Runs = new Map();
  const closing: INestMicroservice[] = [];

  const ledger = async (keys: string[]): Promise<LedgerRow[]> =>
    db.query(
      'SELECT id::text, key, n, tx::text FROM ledger WHERE key = ANY($1) ORDER BY ledger.id',
      [keys],
    );
  const replies = (keys: string[]) =>
    recorder
      .of(REPLIES)
      .map((m) => decodeEnvelope(m.value) as Envelope<{ n: number }>)
      .filter((envelope) => keys.includes(envelope.correlationId));

  /** `done()`, after one pass of a relay over the rows the after-commit path left to it. */
  const relayed = async (done: () => boolean): Promise<boolean> => {
    await new OutboxRelay(db, kafka.producer).publishBatch();
    return done();
  };

  beforeAll(async () => {
    db = await openSchema(SCHEMA, 4);
    await db.query(LEDGER_SQL);
    kafka = await connectKafka('test-messaging-batches');
    await kafka.ensureTopics([{ topic: REPLIES, numPartitions: 1 }]);
    recorder = new TopicRecorder(kafka, `test-messaging-batches-reader-${RUN}`);
    await recorder.start([REPLIES]);
    publisher = new AfterCommitPublisher(kafka.producer);
    publisher.attach(db);
    const module = ledgerModule({
      topic: TOPIC,
      replies: REPLIES,
      db: () => db,
      runs,
      workerId: 18,
    });
    app = await startConsumerApp(module, kafka, {
      groupId: `test-messaging-batches-${RUN}`,
      messages: stepMessages(TOPIC),
      partitionsPerTopic: 1,
      retryBackoffMs: 10,
      batch: BATCH,
    });
  }, 60_000);

  afterAll(async () => {
    for (const other of closing) await other.close();
    await app?.close();
    await recorder?.stop();
    await publisher?.stop();
    await kafka?.disconnectProducer();
    await kafka?.disconnectAdmin();
    await db?.destroy();
  });

  it('commits a batch once; a failed message rolls back alone and runs after it, in key order', async () => {
    const keys = ['101', '102', '103'];
    // Interleaved, in one produce request: one partition, one batch for the consumer.
    const envelopes = [0, 1, 2, 3].flatMap((n) =>
      keys.map((key) => step(key, { n, failOnce: key === '102' && n === 1 })),
    );
    await produce(kafka, TOPIC, envelopes);

    await eventually('every step written', async () => (await ledger(keys)).length >= 12);
    const rows = await ledger(keys);
    expect(rows).toHaveLength(12);
    for (const key of keys) {
      expect(rows.filter((row) => row.key === key).map((row) => row.n)).toEqual([0, 1, 2, 3]);
    }
    const txOf = (key: string, n: number) => rows.find((r) => r.key === key && r.n === n)!.tx;
    // 101, 103 and 102's first step committed together …
    const batchTx = txOf('101', 0);
    for (const [key, n] of [
      ['101', 3],
      ['103', 0],
      ['103', 3],
      ['102', 0],
    ] as const) {
      expect(txOf(key, n)).toBe(batchTx);
    }
    // … 102's failed step and the ones behind it each alone, after the batch.
    const alone = [1, 2, 3].map((n) => txOf('102', n));
    expect(new Set([batchTx, ...alone]).size).toBe(4);
    const failed = envelopes.find((e) => e.correlationId === '102' && e.payload.n === 1)!;
    expect(runs.get(failed.id)).toBe(2);

    // One reply per step, published after the commits (by the after-commit path, or by the
    // relay when the row of the key's previous step was not yet published: the per-key rule);
    // the failed attempt's row, rolled back with its savepoint, never.
    await eventually('every reply published', () => relayed(() => replies(keys).length >= 12));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const published = replies(keys);
    expect(published).toHaveLength(12);
    expect(new Set(published.map((e) => e.causationId)).size).toBe(12);
    await eventually('rows marked sent', async () => {
      const [{ count }] = await db.query(
        `SELECT count(*)::int AS count FROM outbox WHERE sent_at IS NULL AND key = ANY($1)`,
        [keys],
      );
      return count === 0;
    });
  });

  it('a message that waits on a locked row gives up (lock_timeout) and runs alone after the batch', async () => {
    const keys = ['201', '202', '203'];
    const envelopes = keys.map((key, n) => step(key, { n, hot: key === '202' }));
    const holder = db.createQueryRunner();
    await holder.startTransaction();
    try {
      await holder.query('SELECT * FROM hot WHERE id = 1 FOR UPDATE');
      await produce(kafka, TOPIC, envelopes);
      // 201 and 203 do not wait for the lock: their batch commits while it is held.
      await eventually(
        'the others committed',
        async () => (await ledger(['201', '203'])).length === 2,
      );
      expect(await ledger(['202'])).toHaveLength(0);
    } finally {
      await holder.commitTransaction();
      await holder.release();
    }
    await eventually('the hot step written', async () => (await ledger(['202'])).length === 1);
    const hot = envelopes[1];
    expect(runs.get(hot.id)).toBeGreaterThanOrEqual(2);
    const [{ touched }] = await db.query('SELECT touched FROM hot WHERE id = 1');
    expect(touched).toBe(1);
  });

  it('a process killed in the middle of a batch leaves none of it; redelivery changes nothing twice', async () => {
    const group = `test-messaging-batches-crash-${RUN}`;
    const keys = ['301', '302', '303'];
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', CHILD, SCHEMA, CRASH_TOPIC, REPLIES, group],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    try {
      await eventually('the child consuming', () => output.includes('consuming'), 30_000);
      // A first batch the child commits (its offsets are not: it commits them once a minute) …
      const first = keys.map((key) => step(key, { n: 0 }));
      await produce(kafka, CRASH_TOPIC, first);
      await eventually('the first batch committed', async () => (await ledger(keys)).length === 3);
      // … then a second that kills it at its fifth message, after four ran in the batch.
      const second = [1, 2].flatMap((n) =>
        keys.map((key) => step(key, { n, crash: key === '302' && n === 2 })),
      );
      await produce(kafka, CRASH_TOPIC, second);
      expect(await exited).toBe('SIGKILL');
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${output}`, { cause: error });
    }
    expect(output).toMatch(/crashing at 302\/2 after 8 runs/);
    // Nothing of the killed batch committed: no row, no reply.
    expect((await ledger(keys)).map((row) => row.n)).toEqual([0, 0, 0]);

    // A new consumer of the group gets both batches again: the first one's messages are
    // duplicates (inbox), the second's run once.
    const survivor = await startConsumerApp(
      ledgerModule({ topic: CRASH_TOPIC, replies: REPLIES, db: () => db, runs, workerId: 19 }),
      kafka,
      {
        groupId: group,
        messages: stepMessages(CRASH_TOPIC),
        partitionsPerTopic: 1,
        batch: BATCH,
      },
    );
    closing.push(survivor);
    await eventually('every step written', async () => (await ledger(keys)).length >= 9, 40_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rows = await ledger(keys);
    expect(rows).toHaveLength(9);
    for (const key of keys) {
      expect(rows.filter((row) => row.key === key).map((row) => row.n)).toEqual([0, 1, 2]);
    }
    await eventually('every reply published', () => relayed(() => replies(keys).length >= 9));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // One message per step; the relay may send a first-batch row again (the child died
    // before marking it sent): a copy with the same id, which a consumer's inbox drops.
    expect(new Set(replies(keys).map((e) => e.causationId)).size).toBe(9);
    expect(new Set(replies(keys).map((e) => e.id)).size).toBe(9);
  }, 90_000);
});
