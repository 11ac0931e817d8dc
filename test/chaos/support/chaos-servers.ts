import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { requireLocalSecret, secretsDir } from '@app/dist-core/config';

/**
 * The chaos suite's own servers: a Postgres cluster, three Redis nodes and a Kafka broker on
 * ports of their own, with their state under .infra/chaos. The suite crashes and stops them at
 * will, which it must never do to the shared servers (5432, 6379-6381, 9092) other suites and
 * people use. Every run starts from empty data, so leftovers of an aborted run cannot leak in.
 * The same roles and passwords as the shared servers: the Postgres roles and databases come
 * from scripts/infra/postgres.sh, the Redis nodes from redis.sh, both with infra:up's secrets.
 */
const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const CHAOS_INFRA_DIR = join(REPO_ROOT, '.infra', 'chaos');

/**
 * Beside the test services' ports (TEST_PORT_BASE, default 13000): two checkouts running the
 * suite side by side, each with its own TEST_PORT_BASE, get servers of their own.
 */
const PORT_BASE = Number(process.env.TEST_PORT_BASE ?? 13000) + 100;
export const CHAOS_PORTS = {
  postgres: PORT_BASE,
  redis: [PORT_BASE + 1, PORT_BASE + 2, PORT_BASE + 3],
  kafka: PORT_BASE + 4,
  kafkaController: PORT_BASE + 5,
} as const;

const PG_BIN = '/usr/lib/postgresql/15/bin';
const PG_DIR = join(CHAOS_INFRA_DIR, 'postgres');
const PG_DATA = join(PG_DIR, 'data');
/** A database as its owner role (orders_* belong to `order`), with infra:up's password for it. */
function pgUrl(db: string): string {
  const role = db.startsWith('orders_') ? 'order' : db;
  const password = encodeURIComponent(requireLocalSecret(`postgres-${role}`));
  return `postgres://${role}:${password}@127.0.0.1:${CHAOS_PORTS.postgres}/${db}`;
}
const redisPassword = encodeURIComponent(requireLocalSecret('redis'));

/**
 * The credentials of the shared servers (.infra/secrets, or this run's SECRETS_DIR / INFRA_DIR):
 * the chaos broker is formatted with the same Kafka principals and passwords, so the services
 * sign in to it exactly as they do natively.
 */
const SECRETS_DIR = secretsDir();

/** The environment that points a service at these servers (CONTRACT.md's variable names). */
export const CHAOS_SERVICE_ENV: Record<string, string> = {
  KAFKA_BROKERS: `127.0.0.1:${CHAOS_PORTS.kafka}`,
  // Each service signs in as itself (KAFKA_USERNAME's default) with its kafka-<service> secret.
  SECRETS_DIR,
  REDIS_NODES: CHAOS_PORTS.redis
    .map((port) => `redis://:${redisPassword}@127.0.0.1:${port}`)
    .join(','),
  ORDER_DB_SHARDS: ['orders_0', 'orders_1', 'orders_2'].map(pgUrl).join(','),
  PAYMENT_DB_URL: pgUrl('payment'),
  INVENTORY_DB_URL: pgUrl('inventory'),
};
export const chaosDatabaseUrl = pgUrl;

const infraEnv = {
  ...process.env,
  INFRA_DIR: CHAOS_INFRA_DIR,
  // The shared servers' secrets, not a second set under .infra/chaos: the URLs above use them.
  SECRETS_DIR,
  PG_PORT: String(CHAOS_PORTS.postgres),
  KAFKA_PORT: String(CHAOS_PORTS.kafka),
  KAFKA_CONTROLLER_PORT: String(CHAOS_PORTS.kafkaController),
};

/**
 * Asynchronous on purpose: a Kafka start takes seconds, and the clients, the health checks and
 * the other faults must go on meanwhile. A failure carries the command's output.
 */
async function run(command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(command, args, { cwd: REPO_ROOT, env: infraEnv });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed: ${stderr || stdout || (error as Error).message}`,
      { cause: error },
    );
  }
}

/** As the postgres OS user: Postgres refuses to run as root. */
function asPostgres(binary: string, args: string[]): Promise<string> {
  return run('runuser', ['-u', 'postgres', '--', join(PG_BIN, binary), ...args]);
}

function pgCtl(...args: string[]): Promise<string> {
  return asPostgres('pg_ctl', ['-D', PG_DATA, ...args]);
}

async function pgRunning(): Promise<boolean> {
  try {
    await pgCtl('status');
    return true;
  } catch {
    return false;
  }
}

export const chaosPostgres = {
  /**
   * A fresh cluster with the services' roles and databases, provisioned by infra:up's own
   * script (any previous cluster is discarded). Trust auth: the suite is about crashes, and
   * the script reaches the superuser over TCP only that way (there is no Unix socket).
   */
  async create(): Promise<void> {
    await this.stopIfRunning();
    rmSync(PG_DIR, { recursive: true, force: true });
    mkdirSync(PG_DATA, { recursive: true });
    const { uid, gid } = await postgresUser();
    chownSync(PG_DIR, uid, gid);
    chownSync(PG_DATA, uid, gid);
    await asPostgres('initdb', [
      '-D',
      PG_DATA,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '-N',
    ]);
    await this.start();
    await run('bash', ['scripts/infra/postgres.sh', 'start']);
  },
  async start(): Promise<void> {
    // TCP only (no Unix socket beside the shared cluster's); -w waits until it accepts connections.
    // Prepared transactions (2PC participants) need max_prepared_transactions > 0, as infra:up sets.
    const options = `-p ${CHAOS_PORTS.postgres} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_prepared_transactions=200`;
    await pgCtl('start', '-w', '-t', '60', '-l', join(PG_DIR, 'postgres.log'), '-o', options);
  },
  /** A crash: every backend killed at once, no checkpoint; the next start runs WAL recovery. */
  async crash(): Promise<void> {
    await pgCtl('stop', '-m', 'immediate');
  },
  async stopIfRunning(): Promise<void> {
    if (await pgRunning()) await pgCtl('stop', '-m', 'immediate');
  },
};

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  return {
    uid: Number((await run('id', ['-u', 'postgres'])).trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).trim()),
  };
}

/** One of the three Redis nodes, through scripts/infra/redis.sh (no persistence: empty on start). */
export const chaosRedis = {
  start(port: number): Promise<string> {
    return run('bash', ['scripts/infra/redis.sh', 'start', String(port)]);
  },
  stop(port: number): Promise<string> {
    return run('bash', ['scripts/infra/redis.sh', 'stop', String(port)]);
  },
};

/** The broker, through scripts/infra/kafka.sh with this suite's ports and INFRA_DIR. */
export const chaosKafka = {
  /**
   * Empty storage: a new cluster id. kafka.sh formats it with the principals, and its
   * kafka-access.mjs creates the flow topics and ACLs, as on the shared broker.
   */
  reset(): void {
    const dir = join(CHAOS_INFRA_DIR, 'kafka');
    for (const leftover of ['data', 'logs', 'cluster-id', 'server.properties']) {
      rmSync(join(dir, leftover), { recursive: true, force: true });
    }
    // A cluster id is a UUID in URL-safe base64 (what `StorageTool random-uuid` prints); made
    // here, it spares kafka.sh a JVM start. Kafka refuses ids that begin with a dash.
    let clusterId: string;
    do clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cluster-id'), `${clusterId}\n`);
  },
  start(): Promise<string> {
    return run('bash', ['scripts/infra/kafka.sh', 'start']);
  },
  stop(): Promise<string> {
    return run('bash', ['scripts/infra/kafka.sh', 'stop']);
  },
};

/**
 * Stops whatever a previous (maybe aborted) run left, then starts every server empty. `alongside`
 * runs once Postgres and Redis answer, while the broker's JVM starts (the slowest part on a busy
 * machine): the services, which wait for Kafka on their own.
 */
export async function startChaosServers(alongside: () => Promise<unknown>): Promise<void> {
  await stopChaosServers();
  chaosKafka.reset();
  const kafka = chaosKafka.start();
  // allSettled: a teardown after a failed start must not race a server still starting.
  const storage = Promise.allSettled([
    chaosPostgres.create(),
    ...CHAOS_PORTS.redis.map((port) => chaosRedis.start(port)),
  ]).then(throwFirstFailure);
  const started = await Promise.allSettled([kafka, storage, storage.then(alongside)]);
  throwFirstFailure(started);
}

function throwFirstFailure(results: PromiseSettledResult<unknown>[]): void {
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Best effort, each server on its own: one failing to stop must not keep the others up. */
export async function stopChaosServers(): Promise<string[]> {
  const problems: string[] = [];
  const attempt = (what: string, stop: () => Promise<unknown>) =>
    stop().catch((error: Error) => problems.push(`${what}: ${error.message}`));
  await Promise.all([
    attempt('kafka', () => chaosKafka.stop()),
    ...CHAOS_PORTS.redis.map((port) => attempt(`redis:${port}`, () => chaosRedis.stop(port))),
    attempt('postgres', () => chaosPostgres.stopIfRunning()),
  ]);
  return problems;
}
