import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  LockLostError,
  QuorumUnavailableError,
  ResourceLockedError,
  type Lock,
  type Redlock,
} from '../redlock/index.js';
import {
  InvalidWorkerIdError,
  NoFreeWorkerIdError,
  WorkerLeaseLostError,
} from './snowflake.errors.js';
import { SnowflakeGenerator } from './snowflake.generator.js';
import { WorkerIdLease, pinnedWorkerIdFromEnv } from './worker-id-lease.js';

// Unit level: Redlock is replaced by a scripted stand-in so the lease's own decisions (which id,
// when it is lost, what release does) can be driven step by step. test/snowflake/ runs the
// lease against real Redis nodes.

type ExtendOutcome = 'ok' | 'slow' | Error;

class ScriptedRedlock {
  readonly held = new Set<string>();
  readonly attempts: string[] = [];
  readonly extensions: number[] = [];
  readonly completedExtensions: number[] = [];
  extendOutcomes: ExtendOutcome[] = [];

  acquire(resources: string[], ttlMs: number, options?: { retryCount?: number }): Promise<Lock> {
    const [resource] = resources;
    this.attempts.push(resource);
    expect(options?.retryCount).toBe(0);
    if (this.held.has(resource)) return Promise.reject(new ResourceLockedError(resources));
    this.held.add(resource);
    return Promise.resolve(this.lock(resources, Date.now() + ttlMs));
  }

  private lock(resources: string[], expiresAt: number): Lock {
    return {
      resources,
      value: 'token',
      fence: 1n,
      expiresAt,
      extend: (ttlMs: number) => {
        this.extensions.push(ttlMs);
        const outcome = this.extendOutcomes.shift() ?? 'ok';
        if (outcome instanceof Error) return Promise.reject(outcome);
        const answer = () => {
          this.completedExtensions.push(ttlMs);
          return this.lock(resources, Date.now() + ttlMs);
        };
        if (outcome === 'ok') return Promise.resolve(answer());
        return new Promise((resolve) => setTimeout(() => resolve(answer()), 100));
      },
      release: () => Promise.resolve(),
    };
  }

  asRedlock(): Redlock {
    return this as unknown as Redlock;
  }
}

const fixedRandom = (value: number) => () => value;

describe('WorkerIdLease', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: Date.UTC(2026, 10, 27, 12) });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('starts at a random id and skips the ones already leased, wrapping past 1023', async () => {
    const redlock = new ScriptedRedlock();
    redlock.held
      .add('snowflake:worker:1022')
      .add('snowflake:worker:1023')
      .add('snowflake:worker:0');
    const lease = await WorkerIdLease.claim(redlock.asRedlock(), {
      random: fixedRandom(1022 / 1024),
      pinnedWorkerId: undefined,
    });
    expect(lease.workerId).toBe(1);
    expect(redlock.attempts).toEqual([
      'snowflake:worker:1022',
      'snowflake:worker:1023',
      'snowflake:worker:0',
      'snowflake:worker:1',
    ]);
    await lease.release();
  });

  it('fails with NoFreeWorkerIdError when all 1,024 ids are leased', async () => {
    const redlock = new ScriptedRedlock();
    for (let id = 0; id < 1024; id++) redlock.held.add(`snowflake:worker:${id}`);
    await expect(WorkerIdLease.claim(redlock.asRedlock())).rejects.toBeInstanceOf(
      NoFreeWorkerIdError,
    );
    expect(redlock.attempts).toHaveLength(1024);
  });

  it('retries the same id through a brief Redis outage, and gives up on a long one', async () => {
    const redlock = new ScriptedRedlock();
    const acquire = redlock.acquire.bind(redlock);
    let failures = 2;
    redlock.acquire = (resources, ttlMs, options) =>
      failures-- > 0
        ? Promise.reject(new QuorumUnavailableError(resources, 'node timeout'))
        : acquire(resources, ttlMs, options);
    const claiming = WorkerIdLease.claim(redlock.asRedlock(), { pinnedWorkerId: 3 });
    await jest.advanceTimersByTimeAsync(5_000);
    const lease = await claiming;
    expect(lease.workerId).toBe(3);
    await lease.release();

    redlock.acquire = (resources) => Promise.reject(new QuorumUnavailableError(resources, 'down'));
    const failing = WorkerIdLease.claim(redlock.asRedlock(), { outageRetries: 3 });
    const outcome = expect(failing).rejects.toBeInstanceOf(QuorumUnavailableError);
    await jest.advanceTimersByTimeAsync(60_000);
    await outcome;
  });

  it('claims a pinned id or fails, never another one', async () => {
    const redlock = new ScriptedRedlock();
    const lease = await WorkerIdLease.claim(redlock.asRedlock(), { pinnedWorkerId: 77 });
    expect(lease.workerId).toBe(77);
    await expect(
      WorkerIdLease.claim(redlock.asRedlock(), { pinnedWorkerId: 77 }),
    ).rejects.toBeInstanceOf(ResourceLockedError);
    await lease.release();
  });

  it('reads and validates SNOWFLAKE_WORKER_ID', () => {
    expect(pinnedWorkerIdFromEnv({})).toBeUndefined();
    expect(pinnedWorkerIdFromEnv({ SNOWFLAKE_WORKER_ID: '' })).toBeUndefined();
    expect(pinnedWorkerIdFromEnv({ SNOWFLAKE_WORKER_ID: '0' })).toBe(0);
    expect(pinnedWorkerIdFromEnv({ SNOWFLAKE_WORKER_ID: '1023' })).toBe(1023);
    for (const bad of ['1024', '-1', '01', '1.0', ' 5', 'five', '1e2']) {
      expect(() => pinnedWorkerIdFromEnv({ SNOWFLAKE_WORKER_ID: bad })).toThrow(
        InvalidWorkerIdError,
      );
      expect(() => pinnedWorkerIdFromEnv({ SNOWFLAKE_WORKER_ID: bad })).toThrow(
        /SNOWFLAKE_WORKER_ID/,
      );
    }
  });

  it('renews before expiry and stays valid while renewals succeed', async () => {
    const redlock = new ScriptedRedlock();
    const lease = await WorkerIdLease.claim(redlock.asRedlock(), {
      ttlMs: 3_000,
      renewEveryMs: 1_000,
      maxClockSkewMs: 500,
      pinnedWorkerId: 5,
    });
    const generator = new SnowflakeGenerator(lease);
    for (let second = 0; second < 10; second++) {
      await jest.advanceTimersByTimeAsync(1_000);
      expect(lease.isValid).toBe(true);
      expect(generator.nextId()).toMatch(/^[1-9][0-9]+$/);
    }
    expect(redlock.extensions.length).toBeGreaterThanOrEqual(9);
    await lease.release();
  });

  it('is lost at once when a renewal is refused, and the generator stops issuing', async () => {
    const redlock = new ScriptedRedlock();
    const lost: WorkerLeaseLostError[] = [];
    const lease = await WorkerIdLease.claim(redlock.asRedlock(), {
      ttlMs: 3_000,
      renewEveryMs: 1_000,
      maxClockSkewMs: 500,
      pinnedWorkerId: 5,
      onLost: (error) => lost.push(error),
    });
    const generator = new SnowflakeGenerator(lease);
    generator.nextId();
    redlock.extendOutcomes = [new LockLostError(['snowflake:worker:5'], 'taken over')];
    await jest.advanceTimersByTimeAsync(1_000);

    expect(lease.isValid).toBe(false);
    expect(lease.validUntil).toBe(Number.NEGATIVE_INFINITY);
    expect(() => generator.nextId()).toThrow(WorkerLeaseLostError);
    expect(() => generator.nextId()).toThrow(/taken over/);
    expect(lost).toHaveLength(1);
  });

  it('retries renewal through a Redis outage while valid, and is lost when the validity runs out', async () => {
    const redlock = new ScriptedRedlock();
    const lost: WorkerLeaseLostError[] = [];
    const lease = await WorkerIdLease.claim(redlock.asRedlock(), {
      ttlMs: 3_000,
      renewEveryMs: 1_000,
      maxClockSkewMs: 500,
      pinnedWorkerId: 5,
      onLost: (error) => lost.push(error),
    });
    const generator = new SnowflakeGenerator(lease);
    const outage = () => new QuorumUnavailableError(['snowflake:worker:5'], 'down');

    // One failed renewal, then the outage ends: still valid, never interrupted.
    redlock.extendOutcomes = [outage()];
    await jest.advanceTimersByTimeAsync(1_500);
    expect(lease.isValid).toBe(true);
    expect(redlock.extensions.length).toBeGreaterThanOrEqual(2);

    // A long outage: valid until expiresAt - maxClockSkewMs, then lost.
    redlock.extendOutcomes = Array.from({ length: 100 }, outage);
    const validUntil = lease.validUntil;
    await jest.advanceTimersByTimeAsync(validUntil - Date.now() - 1);
    expect(generator.nextId()).toBeDefined();
    await jest.advanceTimersByTimeAsync(1);
    expect(lease.isValid).toBe(false);
    expect(() => generator.nextId()).toThrow(WorkerLeaseLostError);
    expect(lost).toHaveLength(1);
  });

  it('stops issuing on release and keeps the lock for maxClockSkewMs instead of deleting it', async () => {
    const redlock = new ScriptedRedlock();
    const lease = await WorkerIdLease.claim(redlock.asRedlock(), {
      ttlMs: 3_000,
      maxClockSkewMs: 700,
      pinnedWorkerId: 5,
    });
    const generator = new SnowflakeGenerator(lease);
    generator.nextId();
    await lease.release();
    expect(redlock.extensions).toEqual([700]);
    expect(() => generator.nextId()).toThrow(/released/);
  });

  it('lets a renewal in flight finish before shortening the lock on release', async () => {
    const redlock = new ScriptedRedlock();
    const lease = await WorkerIdLease.claim(redlock.asRedlock(), {
      ttlMs: 3_000,
      renewEveryMs: 1_000,
      maxClockSkewMs: 700,
      pinnedWorkerId: 5,
    });
    redlock.extendOutcomes = ['slow'];
    await jest.advanceTimersByTimeAsync(1_010); // the renewal is sent and not yet answered
    const releasing = lease.release();
    await jest.advanceTimersByTimeAsync(200);
    await releasing;
    expect(redlock.completedExtensions).toEqual([3_000, 700]);
  });

  it('refuses settings that leave no time to renew', async () => {
    const redlock = new ScriptedRedlock();
    await expect(
      WorkerIdLease.claim(redlock.asRedlock(), { ttlMs: 1_000, maxClockSkewMs: 1_000 }),
    ).rejects.toThrow(RangeError);
    await expect(
      WorkerIdLease.claim(redlock.asRedlock(), {
        ttlMs: 3_000,
        renewEveryMs: 2_500,
        maxClockSkewMs: 1_000,
      }),
    ).rejects.toThrow(RangeError);
  });
});
