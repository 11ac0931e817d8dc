// Worker id leases against the real Redis nodes of REDIS_NODES (npm run infra:up): processes
// started together get distinct ids, and a process whose lease is taken away stops issuing.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { DEFAULTS, env, loadConfig } from '@app/dist-core/config';
import { Redlock, createRedlockClients } from '@app/dist-core/redlock';
import {
  SnowflakeGenerator,
  WorkerIdLease,
  WorkerLeaseLostError,
  decodeSnowflakeId,
} from '@app/dist-core/snowflake';
import { workerResource } from '@app/dist-core/snowflake/testing';

const { REDIS_NODES } = loadConfig({ REDIS_NODES: env.redisUrls(DEFAULTS.REDIS_NODES) });
// Explicit: the integration project's testTimeout is not applied by Jest 30 (its default is 5 s).
const TIMEOUT_MS = 90_000;
const HOLDER = fileURLToPath(new URL('./lease-holder.ts', import.meta.url));

type Reply = {
  ready?: boolean;
  workerId?: number;
  id?: string;
  lost?: string;
  error?: string;
  message?: string;
};

/** One lease-holder.ts process and the JSON lines it prints. */
class LeaseHolder {
  readonly replies: Reply[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private waiters: (() => void)[] = [];

  constructor(start?: number) {
    this.child = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        HOLDER,
        ...(start === undefined ? [] : [String(start)]),
      ],
      { env: { ...process.env, SNOWFLAKE_WORKER_ID: '' } },
    );
    this.child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.replies.push(JSON.parse(line) as Reply);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Waits for the first reply (from `from` on) that has `key`. */
  async next<K extends keyof Reply>(key: K, from = 0, timeoutMs = 45_000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = this.replies
        .slice(from)
        .find((r) => key in r || (key !== 'lost' && 'error' in r));
      if (reply) return reply;
      if (Date.now() > deadline)
        throw new Error(`no "${key}" reply; got ${JSON.stringify(this.replies)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  async send(command: 'claim' | 'id'): Promise<Reply> {
    const from = this.replies.length;
    this.child.stdin.write(`${command}\n`);
    return this.next(command === 'claim' ? 'workerId' : 'id', from);
  }

  async exit(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = once(this.child, 'exit');
    this.child.stdin.write('exit\n');
    const [code] = (await exited) as [number | null];
    return code;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

const holders: LeaseHolder[] = [];
const redisClients = REDIS_NODES.map((url) => new Redis(url, { maxRetriesPerRequest: 1 }));

afterAll(async () => {
  holders.forEach((holder) => holder.kill());
  await Promise.all(redisClients.map((client) => client.quit().catch(() => client.disconnect())));
}, TIMEOUT_MS);

/** Takes a worker id away from its holder the way an operator (or a split brain) would. */
async function deleteLeaseOnAllNodes(workerId: number): Promise<void> {
  const deleted = await Promise.all(
    redisClients.map((client) => client.del(`lock:${workerResource(workerId)}`)),
  );
  expect(deleted).toEqual(REDIS_NODES.map(() => 1));
}

describe('WorkerIdLease against Redis', () => {
  it(
    'gives six processes started at once six distinct worker ids, even contending for the same ones',
    async () => {
      // All six begin their search at the same id: each must skip the ids the others hold.
      const start = Math.random();
      const started = Array.from({ length: 6 }, () => new LeaseHolder(start));
      holders.push(...started);
      await Promise.all(started.map((holder) => holder.next('ready')));

      const claims = await Promise.all(started.map((holder) => holder.send('claim')));
      expect(claims.filter((reply) => reply.error)).toEqual([]);
      const workerIds = claims.map((reply) => reply.workerId as number);
      expect(new Set(workerIds).size).toBe(6);

      // Each issues ids under its own worker id.
      const ids = await Promise.all(started.map((holder) => holder.send('id')));
      expect(ids.map((reply) => decodeSnowflakeId(reply.id as string).workerId)).toEqual(workerIds);

      expect(await Promise.all(started.map((holder) => holder.exit()))).toEqual(
        started.map(() => 0),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'stops a process from issuing once its lease is taken away on every node',
    async () => {
      const holder = new LeaseHolder();
      holders.push(holder);
      await holder.next('ready');
      const { workerId } = await holder.send('claim');
      expect(typeof workerId).toBe('number');
      expect((await holder.send('id')).id).toBeDefined();

      await deleteLeaseOnAllNodes(workerId as number);
      // The next renewal (every 300 ms) is refused: the process reports the loss by itself...
      expect((await holder.next('lost')).lost).toMatch(/renewal failed/);
      // ...and issues nothing more.
      for (let i = 0; i < 3; i++) {
        expect(await holder.send('id')).toMatchObject({ error: 'WorkerLeaseLostError' });
      }
      expect(await holder.exit()).toBe(0);
    },
    TIMEOUT_MS,
  );

  it(
    'stops issuing when its validity runs out while the event loop is too busy to renew',
    async () => {
      const redlock = new Redlock(createRedlockClients(REDIS_NODES));
      try {
        await Promise.all(
          (redlock as unknown as { clients: Redis[] }).clients.map((client) =>
            client.status === 'ready' ? undefined : once(client, 'ready'),
          ),
        );
        const lease = await WorkerIdLease.claim(redlock, {
          ttlMs: 1_500,
          renewEveryMs: 500,
          maxClockSkewMs: 200,
          pinnedWorkerId: undefined,
        });
        const generator = new SnowflakeGenerator(lease);
        const validUntil = lease.validUntil;

        // A synchronous loop longer than the lease: no renewal timer can run, so only the
        // generator's own clock check stands between this loop and a lease someone else may hold.
        let issued = 0;
        let lastIssuedAt = 0;
        let refusal: unknown;
        while (Date.now() < validUntil + 200) {
          try {
            const id = generator.nextId();
            issued++;
            lastIssuedAt = decodeSnowflakeId(id).timestampMs;
          } catch (error) {
            refusal = error;
            break;
          }
        }
        expect(issued).toBeGreaterThan(0);
        expect(refusal).toBeInstanceOf(WorkerLeaseLostError);
        expect(lastIssuedAt).toBeLessThan(validUntil);

        // Once the event loop runs again, the lease knows it is gone and does not come back.
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(lease.isValid).toBe(false);
        expect(() => generator.nextId()).toThrow(WorkerLeaseLostError);
        await lease.release();
      } finally {
        await redlock.quit();
      }
    },
    TIMEOUT_MS,
  );
});
