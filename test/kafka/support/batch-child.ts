// A consumer process for message-batches.test.ts that SIGKILLs itself in the middle of a batch:
// the handler of a message marked `crash` kills the process after its writes, before the batch
// commits. Offsets are committed once a minute, so what it finished is redelivered too.
// Usage: node --conditions=source --import tsx batch-child.ts <schema> <topic> <replies> <group>
import { AfterCommitPublisher } from '@app/dist-core/outbox';
import { startConsumerApp } from '../../support/consumer-app.js';
import { adminKafkaClient } from '../../support/kafka.js';
import { schemaDataSource } from '../../support/messaging-db.js';
import { ledgerModule, stepMessages } from './batch-ledger.js';

const [schema, topic, replies, group] = process.argv.slice(2);
const db = schemaDataSource(schema, 2);
await db.initialize();
const kafka = adminKafkaClient('batch-child');
await kafka.connect();
new AfterCommitPublisher(kafka.producer).attach(db);

const runs = new Map<string, number>();
const module = ledgerModule({
  topic,
  replies,
  db: () => db,
  runs,
  workerId: 17,
  crash: (envelope) => {
    const at = `${envelope.correlationId}/${envelope.payload.n}`;
    process.stdout.write(`crashing at ${at} after ${runs.size} runs\n`);
    process.kill(process.pid, 'SIGKILL');
  },
});
await startConsumerApp(module, kafka, {
  groupId: group,
  messages: stepMessages(topic),
  partitionsPerTopic: 1,
  commitIntervalMs: 60_000,
  batch: { maxMessages: 100, maxMs: 10_000 },
});
process.stdout.write('consuming\n');
