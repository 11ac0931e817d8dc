// SIGKILL between the local commit and the publish loses nothing: the message is a committed
// row, and whichever relay runs next publishes it. SIGKILL after the publish and before the
// row is marked sent publishes it twice, and the inbox handles it once.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DataSource } from 'typeorm';
import { handleOnce } from '@app/dist-core/inbox';
import {
  defineMessages,
  message,
  OnMessage,
  type Envelope,
  type KafkaClient,
} from '@app/dist-core/kafka';
import { decodeEnvelope } from '@app/dist-core/kafka/testing';
import { OutboxRelay } from '@app/dist-core/outbox';
import { startConsumerApp } from '../support/consumer-app.js';
import { connectKafka, eventually, runSuffix, TopicRecorder } from '../support/kafka.js';
import { openSchema } from '../support/messaging-db.js';

const SCHEMA = 'crash';
const RUN = runSuffix();
const TOPIC = `test-messaging.crash.${RUN}`;
const CHILD = fileURLToPath(new URL('./support/outbox-child.ts', import.meta.url));

const messages = defineMessages({
  'crash.order-placed': message<{ orderId: string }>(TOPIC),
});

let db: DataSource;
const outcomes = new Map<string, string[]>();

@Controller()
class OrderPlacedHandler {
  @OnMessage(messages, 'crash.order-placed')
  async placed(@Payload() envelope: Envelope<{ orderId: string }>): Promise<void> {
    const outcome = await handleOnce(db, 'crash-test:order-placed', envelope, async (manager) => {
      await manager.query('INSERT INTO shipments (order_id) VALUES ($1)', [
        envelope.payload.orderId,
      ]);
    });
    outcomes.set(envelope.id, [...(outcomes.get(envelope.id) ?? []), outcome]);
  }
}

@Module({ controllers: [OrderPlacedHandler] })
class OrderPlacedModule {}

/** Runs the child until it is SIGKILLed (by us, or by itself); returns its message's id. */
async function runChild(mode: 'commit-then-hang' | 'publish-then-die'): Promise<string> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', CHILD, SCHEMA, TOPIC, mode],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  await eventually('the child committed', () => /committed \d+/.test(output), 30_000).catch(
    (error: Error) => {
      child.kill('SIGKILL');
      throw new Error(`${error.message}\n${output}`);
    },
  );
  if (mode === 'commit-then-hang') child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  return /committed (\d+)/.exec(output)![1];
}

async function unsent(id: string): Promise<boolean> {
  const rows: { unsent: boolean }[] = await db.query(
    'SELECT sent_at IS NULL AS unsent FROM outbox WHERE id = $1',
    [id],
  );
  return rows[0]?.unsent ?? false;
}

async function shipments(orderId: string): Promise<number> {
  const [{ count }] = await db.query(
    'SELECT count(*)::int AS count FROM shipments WHERE order_id = $1',
    [orderId],
  );
  return count;
}

describe('Outbox under SIGKILL', () => {
  let kafka: KafkaClient;
  let app: INestMicroservice;
  let recorder: TopicRecorder;
  const copiesOf = (id: string): Envelope[] =>
    recorder
      .of(TOPIC)
      .map((m) => decodeEnvelope(m.value))
      .filter((envelope) => envelope.id === id);

  beforeAll(async () => {
    db = await openSchema(SCHEMA);
    await db.query('CREATE TABLE placed_orders (id bigint PRIMARY KEY)');
    await db.query('CREATE TABLE shipments (order_id bigint NOT NULL)');
    kafka = await connectKafka('test-messaging-crash');
    app = await startConsumerApp(OrderPlacedModule, kafka, {
      groupId: `test-messaging-crash-${RUN}`,
      messages,
    });
    recorder = new TopicRecorder(kafka, `test-messaging-crash-reader-${RUN}`);
    await recorder.start([TOPIC]);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await recorder?.stop();
    await kafka?.disconnectProducer();
    await kafka?.disconnectAdmin();
    await db?.destroy();
  });

  it('killed after the commit, before the publish: a later relay publishes it, handled once', async () => {
    const id = await runChild('commit-then-hang');
    expect(await unsent(id)).toBe(true);
    expect(copiesOf(id)).toHaveLength(0);

    expect(await new OutboxRelay(db, kafka.producer).publishBatch()).toEqual({
      claimed: 1,
      published: 1,
    });
    await eventually('handled', () => outcomes.has(id));
    await eventually('recorded', () => copiesOf(id).length === 1);
    const { orderId } = copiesOf(id)[0].payload as { orderId: string };
    expect(outcomes.get(id)).toEqual(['handled']);
    expect(await shipments(orderId)).toBe(1);
  });

  it('killed after the broker acknowledged, before marking sent: published twice, handled once', async () => {
    const id = await runChild('publish-then-die');
    expect(await unsent(id)).toBe(true);
    await eventually('the first copy consumed', () => outcomes.has(id));

    expect(await new OutboxRelay(db, kafka.producer).publishBatch()).toEqual({
      claimed: 1,
      published: 1,
    });
    expect(await unsent(id)).toBe(false);
    await eventually('the second copy consumed', () => outcomes.get(id)?.length === 2);
    expect(outcomes.get(id)).toEqual(['handled', 'duplicate']);
    await eventually('both copies recorded', () => copiesOf(id).length === 2);
    const { orderId } = copiesOf(id)[0].payload as { orderId: string };
    expect(await shipments(orderId)).toBe(1);
  });
});
