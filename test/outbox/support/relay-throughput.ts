// Measures the outbox on this machine: enqueue rate (one message per transaction, as a
// service writes) and relay rate (a backlog drained by 1 and by 3 relays) against the real
// Postgres and Kafka. Prints one line per figure.
// Run: node --conditions=source --import tsx test/outbox/support/relay-throughput.ts [rows]
import type { KafkaClient } from '@app/dist-core/kafka';
import { Outbox, OutboxRelay } from '@app/dist-core/outbox';
import { fixedWorkerId, SnowflakeGenerator } from '@app/dist-core/snowflake';
import type { DataSource } from 'typeorm';
import { adminKafkaClient, runSuffix } from '../../support/kafka.js';
import { openSchema, schemaDataSource } from '../../support/messaging-db.js';

const ROWS = Number(process.argv[2] ?? 20_000);
const KEYS = 500;
const SCHEMA = 'throughput';
const topic = `test-messaging.throughput.${runSuffix()}`;
const outbox = new Outbox(new SnowflakeGenerator(fixedWorkerId(16)));

async function enqueue(db: DataSource, rows: number, perTransaction: number): Promise<number> {
  const started = performance.now();
  const writers = 4;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = w * perTransaction; i < rows; i += writers * perTransaction) {
        await db.transaction(async (manager) => {
          for (let j = i; j < Math.min(i + perTransaction, rows); j++) {
            await outbox.enqueue(manager, {
              topic,
              type: 'throughput.test',
              correlationId: String(1 + (j % KEYS)),
              payload: { j, padding: 'x'.repeat(200) },
            });
          }
        });
      }
    }),
  );
  return rows / ((performance.now() - started) / 1000);
}

async function drain(relayCount: number, kafka: KafkaClient): Promise<number> {
  const pools = Array.from({ length: relayCount }, () => schemaDataSource(SCHEMA, 2));
  await Promise.all(pools.map((pool) => pool.initialize()));
  const [{ count }] = await pools[0].query(
    'SELECT count(*)::int AS count FROM outbox WHERE sent_at IS NULL',
  );
  const started = performance.now();
  const relays = pools.map((pool) => new OutboxRelay(pool, kafka.producer, { listen: false }));
  relays.forEach((relay) => relay.start());
  for (;;) {
    const [{ left }] = await pools[0].query(
      'SELECT count(*)::int AS left FROM outbox WHERE sent_at IS NULL',
    );
    if (left === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(relays.map((relay) => relay.stop()));
  await Promise.all(pools.map((pool) => pool.destroy()));
  return count / seconds;
}

const db = await openSchema(SCHEMA, 4);
const kafka = adminKafkaClient('relay-throughput');
await kafka.connect();
await kafka.ensureTopics([{ topic, numPartitions: 3 }]);

const single = await enqueue(db, Math.min(ROWS, 4000), 1);
await db.query('TRUNCATE outbox');
console.log(`enqueue, 1 message/transaction, 4 writers: ${single.toFixed(0)} msgs/s`);
for (const relays of [1, 3]) {
  await enqueue(db, ROWS, 100);
  const rate = await drain(relays, kafka);
  console.log(
    `relay drain of ${ROWS} rows, ${relays} relay(s), batch 200: ${rate.toFixed(0)} msgs/s`,
  );
  await db.query('TRUNCATE outbox');
}
await kafka.disconnectProducer();
await kafka.disconnectAdmin();
await db.destroy();
