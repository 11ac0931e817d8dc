// Waits until a Kafka broker really serves clients, not just until its port is open.
//
//   node kafka-ready.mjs --brokers 127.0.0.1:9092 [--timeout 90] [--pid 1234]
//
// Exit 0: an admin client (signed in as admin, password in KAFKA_ADMIN_PASSWORD) listed the
// topics (a Metadata request). A KRaft broker opens its client listener only once it has caught
// up with the metadata log and is unfenced, so that is the moment services can create topics
// and produce. Exit 1: timeout. Exit 3: the broker process (--pid) died meanwhile, so there is
// no point waiting any longer. Exit 4: the broker refused the admin credentials, which waiting
// will not change.
import { existsSync, readFileSync } from 'node:fs';
import kafkajs from 'kafkajs';
import { adminKafka, option } from './kafka-admin.mjs';

const brokers = option('brokers', '127.0.0.1:9092').split(',');
const timeoutMs = Number(option('timeout', '90')) * 1000;
const pid = option('pid', undefined);

// A zombie (exited, never reaped) still has a /proc entry: read its state, as lib.sh does.
function processAlive(id) {
  const statPath = `/proc/${id}/stat`;
  if (!existsSync(statPath)) return false;
  const stat = readFileSync(statPath, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

// One attempt per round: this loop does the retrying and owns the deadline.
const kafka = adminKafka('infra-ready', brokers, {
  connectionTimeout: 1000,
  requestTimeout: 3000,
  retry: { retries: 0 },
});

const deadline = Date.now() + timeoutMs;
let lastError = 'no attempt made';
while (Date.now() < deadline) {
  if (pid && !processAlive(pid)) {
    console.error(`kafka-ready: broker process ${pid} exited`);
    process.exit(3);
  }
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    await admin.disconnect();
    process.exit(0);
  } catch (error) {
    lastError = error instanceof Error ? error.message : String(error);
    await admin.disconnect().catch(() => {});
    if (error instanceof kafkajs.KafkaJSSASLAuthenticationError) {
      console.error(
        `kafka-ready: ${brokers.join(',')} refuses the admin credentials: ${lastError}`,
      );
      process.exit(4);
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}
console.error(
  `kafka-ready: ${brokers.join(',')} not ready after ${timeoutMs / 1000}s: ${lastError}`,
);
process.exit(1);
