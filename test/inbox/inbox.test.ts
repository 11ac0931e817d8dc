// The idempotent inbox against the real Kafka and Postgres: a message delivered twice is
// handled once; concurrent deliveries run the handler once; a failed handler leaves no trace;
// the retention purge deletes rows past RETENTION_HOURS.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import type { DataSource } from 'typeorm';
import { handleOnce, inboxRetention } from '@app/dist-core/inbox';
import {
  defineMessages,
  message,
  OnMessage,
  type Envelope,
  type KafkaClient,
} from '@app/dist-core/kafka';
import { TRACEPARENT_HEADER } from '@app/dist-core/kafka/testing';
import { parseTraceparent } from '@app/dist-core/observability';
import { Outbox } from '@app/dist-core/outbox';
import { RetentionPurge } from '@app/dist-core/retention';
import { fixedWorkerId, SnowflakeGenerator } from '@app/dist-core/snowflake';
import {
  produce,
  SAMPLE_TRACEPARENT,
  startConsumerApp,
  testEnvelope,
} from '../support/consumer-app.js';
import { connectKafka, eventually, runSuffix } from '../support/kafka.js';
import { openSchema } from '../support/messaging-db.js';

const RUN = runSuffix();
const TOPIC = `test-messaging.inbox.${RUN}`;
const REPLY_TOPIC = `test-messaging.inbox-replies.${RUN}`;
const CONSUMER = 'inbox-test:credit';

const messages = defineMessages({
  'inbox.credit': message<{ cents: number }>(TOPIC),
  'inbox.credited': message<{ outcome: 'SUCCESS' }>(REPLY_TOPIC),
});
const outbox = new Outbox(new SnowflakeGenerator(fixedWorkerId(14)));

let db: DataSource;
const outcomes: { id: string; outcome: string }[] = [];

/** A participant's handler as a service writes it: business write and reply, once. */
@Controller()
class CreditHandler {
  @OnMessage(messages, 'inbox.credit')
  async credit(@Payload() envelope: Envelope<{ cents: number }>): Promise<void> {
    const outcome = await handleOnce(db, CONSUMER, envelope, async (manager) => {
      await manager.query('INSERT INTO credits (message_id, cents) VALUES ($1, $2)', [
        envelope.id,
        envelope.payload.cents,
      ]);
      await outbox.enqueue(manager, {
        ...messages.route('inbox.credited'),
        correlationId: envelope.correlationId,
        causationId: envelope.id,
        payload: { outcome: 'SUCCESS' },
      });
    });
    outcomes.push({ id: envelope.id, outcome });
  }
}

@Module({ controllers: [CreditHandler] })
class CreditModule {}

async function creditsFor(id: string): Promise<number> {
  const [{ count }] = await db.query(
    'SELECT count(*)::int AS count FROM credits WHERE message_id = $1',
    [id],
  );
  return count;
}

describe('Idempotent inbox', () => {
  let kafka: KafkaClient;
  let app: INestMicroservice;

  beforeAll(async () => {
    db = await openSchema('inbox');
    // No unique key on purpose: a second run of a handler would show as a second row.
    await db.query('CREATE TABLE credits (message_id bigint NOT NULL, cents int NOT NULL)');
    kafka = await connectKafka('test-messaging-inbox');
    app = await startConsumerApp(CreditModule, kafka, {
      groupId: `test-messaging-inbox-${RUN}`,
      messages,
    });
  });

  afterAll(async () => {
    await app?.close();
    await kafka?.disconnectProducer();
    await kafka?.disconnectAdmin();
    await db?.destroy();
  });

  it('handles a message delivered twice once, and its reply continues the trace', async () => {
    const twice = testEnvelope('inbox.credit', { cents: 500 });
    const once = testEnvelope('inbox.credit', { cents: 700 });
    await produce(kafka, TOPIC, [twice, twice, once], { [TRACEPARENT_HEADER]: SAMPLE_TRACEPARENT });

    await eventually('three deliveries', () => outcomes.length === 3);
    expect(outcomes).toEqual([
      { id: twice.id, outcome: 'handled' },
      { id: twice.id, outcome: 'duplicate' },
      { id: once.id, outcome: 'handled' },
    ]);
    expect(await creditsFor(twice.id)).toBe(1);
    expect(await creditsFor(once.id)).toBe(1);

    const replies: { envelope: Envelope; headers: Record<string, string> }[] = await db.query(
      'SELECT envelope, headers FROM outbox ORDER BY id',
    );
    expect(replies.map((reply) => reply.envelope.causationId)).toEqual([twice.id, once.id]);
    const sent = parseTraceparent(SAMPLE_TRACEPARENT)!;
    for (const reply of replies) {
      const trace = parseTraceparent(reply.headers[TRACEPARENT_HEADER])!;
      expect(trace.traceId).toBe(sent.traceId);
      expect(trace.spanId).not.toBe(sent.spanId);
    }
  });

  it('runs the handler once when five deliveries of one message race', async () => {
    const envelope = testEnvelope('inbox.credit', { cents: 100 });
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map(() =>
        handleOnce(db, CONSUMER, envelope, async (manager) => {
          await manager.query('INSERT INTO credits (message_id, cents) VALUES ($1, 100)', [
            envelope.id,
          ]);
          // Hold the transaction open so the others arrive while it is undecided.
          await new Promise((resolve) => setTimeout(resolve, 100));
        }),
      ),
    );
    expect(results.sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate', 'handled']);
    expect(await creditsFor(envelope.id)).toBe(1);
  });

  it('keeps no inbox row for a handler that failed, so the redelivery runs it', async () => {
    const envelope = testEnvelope('inbox.credit', { cents: 300 });
    await expect(
      handleOnce(db, CONSUMER, envelope, async (manager) => {
        await manager.query('INSERT INTO credits (message_id, cents) VALUES ($1, 300)', [
          envelope.id,
        ]);
        throw new Error('deadlock detected');
      }),
    ).rejects.toThrow('deadlock detected');
    expect(await creditsFor(envelope.id)).toBe(0);
    const again = await handleOnce(db, CONSUMER, envelope, async (manager) => {
      await manager.query('INSERT INTO credits (message_id, cents) VALUES ($1, 300)', [
        envelope.id,
      ]);
    });
    expect(again).toBe('handled');
    expect(await creditsFor(envelope.id)).toBe(1);
  });

  it("loses its rows past RETENTION_HOURS to the service's purge, and keeps the newer ones", async () => {
    const consumer = 'inbox-test:retention';
    const [old1, old2, recent] = [1, 2, 3].map((cents) => testEnvelope('inbox.credit', { cents }));
    for (const envelope of [old1, old2, recent]) {
      await handleOnce(db, consumer, envelope, async () => {});
    }
    await db.query(
      `UPDATE inbox SET received_at = received_at - interval '25 hours'
        WHERE consumer = $1 AND message_id = ANY($2::bigint[])`,
      [consumer, [old1.id, old2.id]],
    );
    // As the services run it: every database's rules, RETENTION_HOURS=24, small batches.
    const purge = new RetentionPurge(
      [{ name: 'inbox', dataSource: db, retention: [inboxRetention] }],
      {
        retentionMs: 24 * 3_600_000,
        intervalMs: 60_000,
        batchSize: 1,
      },
    );
    expect(await purge.purgeOnce()).toEqual({ 'inbox.inbox': 2 });
    const left: { message_id: string }[] = await db.query(
      'SELECT message_id::text FROM inbox WHERE consumer = $1',
      [consumer],
    );
    expect(left).toEqual([{ message_id: recent.id }]);
    // The recent row still protects its message; a purged one no longer does.
    expect(await handleOnce(db, consumer, recent, async () => {})).toBe('duplicate');
    expect(await handleOnce(db, consumer, old1, async () => {})).toBe('handled');
  });
});
