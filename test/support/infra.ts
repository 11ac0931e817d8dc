import { execFileSync } from 'node:child_process';
import { requireLocalSecret } from '@app/dist-core/config';

/**
 * The password of the Redis nodes infra:up starts (scripts/infra/redis.sh, secret `redis`).
 * Sent to every node: one that has none (6379 when infra:up reused it) answers AUTH with an
 * error that redis-cli only warns about.
 */
export function redisPassword(): string {
  return requireLocalSecret('redis');
}

/**
 * redis-cli against 127.0.0.1:port, authenticated; its output, trimmed. The password goes in
 * through REDISCLI_AUTH: on the command line (-a) any process could read it.
 */
export function redisCli(port: number, args: string[]): string {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    env: { ...process.env, REDISCLI_AUTH: redisPassword() },
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .toString()
    .trim();
}

/**
 * Takes one Redis node of the quorum away and brings it back, through the same script
 * `npm run infra:up` uses. The node is shut down with SHUTDOWN NOSAVE, which works whoever
 * started it; the script starts it again and waits until it answers.
 */
export const redisNode = {
  stop(port: number): void {
    redisCli(port, ['shutdown', 'nosave']);
  },
  start(port: number): void {
    execFileSync('bash', ['scripts/infra/redis.sh', 'start', String(port)], { stdio: 'pipe' });
  },
};

const PG_PORT = Number(process.env.PG_PORT ?? 5432);

/** The Debian cluster on PG_PORT as pg_lsclusters lists it: version, name, status. */
function sharedCluster(): { version: string; cluster: string; online: boolean } {
  const fields = execFileSync('pg_lsclusters', ['-h'])
    .toString()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((f) => f[2] === String(PG_PORT));
  if (!fields) throw new Error(`No Postgres cluster on port ${PG_PORT} (pg_lsclusters)`);
  return { version: fields[0], cluster: fields[1], online: fields[3] === 'online' };
}

function pgCtlCluster(...args: string[]): void {
  const { version, cluster } = sharedCluster();
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, cluster, ...args]);
}

/**
 * The shared Postgres server that infra:up started, crashed and started again: every backend
 * killed at once, no checkpoint, so the start runs WAL recovery — what survives is what was
 * durable (prepared transactions among it). Every suite's connections break meanwhile: run it
 * under the test lock only. `start` is also what a test's `finally` calls so that the server is
 * never left down.
 */
export const sharedPostgres = {
  crash(): void {
    pgCtlCluster('stop', '-m', 'immediate');
  },
  start(): void {
    if (!sharedCluster().online) pgCtlCluster('start');
    execFileSync('pg_isready', ['-h', '127.0.0.1', '-p', String(PG_PORT), '-t', '60']);
  },
};
