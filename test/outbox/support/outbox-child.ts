// A service process for outbox-crash.test.ts, killed with SIGKILL at a chosen point:
//   commit-then-hang   commits an order and its message, says so, and waits to be killed
//                      (the message was never published);
//   publish-then-die   commits, publishes through a relay, and kills itself the moment the
//                      broker has acknowledged, before the relay marks the row sent.
// Usage: node --conditions=source --import tsx outbox-child.ts <schema> <topic> <mode>
import { Outbox, OutboxRelay } from '@app/dist-core/outbox';
import { fixedWorkerId, SnowflakeGenerator } from '@app/dist-core/snowflake';
import type { ProducerBatch } from 'kafkajs';
import { adminKafkaClient } from '../../support/kafka.js';
import { schemaDataSource } from '../../support/messaging-db.js';

const [schema, topic, mode] = process.argv.slice(2);
const db = schemaDataSource(schema, 1);
await db.initialize();
const outbox = new Outbox(new SnowflakeGenerator(fixedWorkerId(15)));

const orderId = String(5000 + process.pid);
const envelope = await db.transaction(async (manager) => {
  await manager.query('INSERT INTO placed_orders (id) VALUES ($1)', [orderId]);
  return outbox.enqueue(manager, {
    topic,
    type: 'crash.order-placed',
    correlationId: orderId,
    payload: { orderId },
  });
});
process.stdout.write(`committed ${envelope.id}\n`);

if (mode === 'publish-then-die') {
  const kafka = adminKafkaClient('outbox-child');
  await kafka.connect();
  const dieAfterAck = {
    sendBatch: async (batch: ProducerBatch) => {
      const acknowledged = await kafka.producer.sendBatch(batch);
      process.kill(process.pid, 'SIGKILL');
      return acknowledged;
    },
  };
  await new OutboxRelay(db, dieAfterAck).publishBatch();
}
setInterval(() => undefined, 60_000);
