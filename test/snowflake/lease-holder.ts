// A process that leases a Snowflake worker id, driven line by line over stdin by
// worker-id-lease.test.ts. It answers each command with one JSON line on stdout:
//   (start)  {"ready":true}            connected to REDIS_NODES
//   claim    {"workerId":N}            or {"error":"..."}
//   id       {"id":"..."}              or {"error":"WorkerLeaseLostError", ...}
//   exit     releases the lease and exits 0
// Unprompted: {"lost":"reason"} when the lease is lost.
// argv[2], if given, fixes where the search for a free id starts (0 ≤ x < 1), so that every
// process of a test contends for the same ids.
import { createInterface } from 'node:readline';
import { DEFAULTS, env, loadConfig } from '@app/dist-core/config';
import { Redlock, createRedlockClients } from '@app/dist-core/redlock';
import { SnowflakeGenerator, WorkerIdLease } from '@app/dist-core/snowflake';

const { REDIS_NODES } = loadConfig({ REDIS_NODES: env.redisUrls(DEFAULTS.REDIS_NODES) });
const start = process.argv[2] === undefined ? undefined : Number(process.argv[2]);

const say = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);
const errorOf = (error: unknown) =>
  error instanceof Error ? { error: error.name, message: error.message } : { error: String(error) };

const clients = createRedlockClients(REDIS_NODES);
const redlock = new Redlock(clients);
let lease: WorkerIdLease | undefined;
let generator: SnowflakeGenerator | undefined;

const commands: Record<string, () => Promise<void> | void> = {
  async claim() {
    lease = await WorkerIdLease.claim(redlock, {
      ttlMs: 3_000,
      renewEveryMs: 300,
      maxClockSkewMs: 200,
      random: start === undefined ? undefined : () => start,
      onLost: (error) => say({ lost: error.reason }),
    });
    generator = new SnowflakeGenerator(lease);
    say({ workerId: lease.workerId });
  },
  id() {
    if (!generator) throw new Error('no lease claimed');
    say({ id: generator.nextId() });
  },
  async exit() {
    await lease?.release();
    await redlock.quit();
    process.exit(0);
  },
};

// The clients fail commands while still connecting (no offline queue): wait until every node
// answers, which also lets all processes of a test claim at the same moment.
await Promise.all(
  clients.map((client) =>
    client.status === 'ready'
      ? undefined
      : new Promise<void>((resolve) => client.once('ready', () => resolve())),
  ),
);
say({ ready: true });

for await (const line of createInterface({ input: process.stdin })) {
  const command = commands[line.trim()];
  if (!command) {
    say({ error: `unknown command ${JSON.stringify(line)}` });
    continue;
  }
  try {
    await command();
  } catch (error) {
    say(errorOf(error));
  }
}
// stdin closed without "exit" (the test died): give the id back all the same.
await commands.exit();
