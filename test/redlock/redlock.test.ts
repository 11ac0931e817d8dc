// Redlock against the three real Redis nodes of REDIS_NODES: mutual exclusion under heavy
// contention, monotonic fences, and the faults the algorithm exists for (a node crashed, a node
// frozen, a majority gone). Faults are real: SHUTDOWN NOSAVE and SIGSTOP on 6380/6381.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { DEFAULTS, env, loadConfig } from '@app/dist-core/config';
import {
  LockLostError,
  QuorumUnavailableError,
  Redlock,
  RedlockError,
  ResourceLockedError,
  createRedlockClients,
  type RedlockOptions,
} from '@app/dist-core/redlock';
import { pauseNode, percentile, portOf, resumeNodes, startNodes, stopNode } from './node-faults.js';

const { REDIS_NODES } = loadConfig({ REDIS_NODES: env.redisUrls(DEFAULTS.REDIS_NODES) });
const PORTS = REDIS_NODES.map(portOf);
const [, SECOND, THIRD] = PORTS;
const NODE_TIMEOUT_MS = 50;

// Contenders retry without limit: the test is about exclusion, not patience. 50 ± 50 ms: much
// shorter and 50 contenders flood the nodes with attempts that cannot succeed, much longer and
// the lock sits idle between holders.
const CONTENDER_OPTIONS: RedlockOptions = {
  retryCount: Infinity,
  retryDelayMs: 50,
  retryJitterMs: 50,
  nodeTimeoutMs: NODE_TIMEOUT_MS,
};

const run = randomUUID().slice(0, 8);
const resourceName = (name: string) => `redlock-test:${run}:${name}`;

const opened: Redlock[] = [];
function redlock(options: RedlockOptions = {}): Redlock {
  const instance = new Redlock(createRedlockClients(REDIS_NODES), {
    nodeTimeoutMs: NODE_TIMEOUT_MS,
    ...options,
  });
  opened.push(instance);
  return instance;
}
function clientsOf(instance: Redlock): Redis[] {
  return (instance as unknown as { clients: Redis[] }).clients;
}

// Direct access to the nodes, failing fast like the lock's own clients: a plain ioredis client
// would wait forever on a frozen node.
const adminClient = (url: string) =>
  new Redis(url, {
    commandTimeout: 1000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
  });

// The protected resource: a counter in Redis, incremented by a GET and a later SET, which loses
// updates whenever two increments interleave.
const counterClient = new Redis(REDIS_NODES[0]);
const counterKey = (name: string) => `redlock-test:${run}:counter:${name}`;
async function unsafeIncrement(key: string): Promise<void> {
  const value = Number((await counterClient.get(key)) ?? 0);
  await counterClient.set(key, String(value + 1));
}
async function counterValue(key: string): Promise<number> {
  return Number((await counterClient.get(key)) ?? 0);
}

/** Waits until each instance has at least `count` connected nodes (a process that has started). */
async function connected(instances: readonly Redlock[], count = REDIS_NODES.length): Promise<void> {
  const deadline = performance.now() + 10_000;
  const ready = (instance: Redlock) =>
    clientsOf(instance).filter((client) => client.status === 'ready').length >= count;
  while (!instances.every(ready)) {
    if (performance.now() > deadline) throw new Error('Redis clients did not connect in time');
    await sleep(20);
  }
}

/**
 * `contenders` separate Redlock instances (as separate processes would be) each perform
 * `perContender` increments under the lock. Returns the fences in the order the critical
 * sections ran.
 */
async function contend(
  name: string,
  contenders: number,
  perContender: number,
  connectedNodes = REDIS_NODES.length,
): Promise<bigint[]> {
  const instances = Array.from({ length: contenders }, () => redlock(CONTENDER_OPTIONS));
  await connected(instances, connectedNodes);
  const fences: bigint[] = [];
  await Promise.all(
    instances.map(async (instance) => {
      for (let i = 0; i < perContender; i++) {
        const lock = await instance.acquire([resourceName(name)], 5000);
        try {
          fences.push(lock.fence);
          await unsafeIncrement(counterKey(name));
        } finally {
          // A release no quorum confirmed is left to the ttl; the count must still be exact.
          await lock.release().catch(() => undefined);
        }
      }
    }),
  );
  return fences;
}

function expectStrictlyIncreasing(fences: readonly bigint[]): void {
  const violations = fences.filter((fence, index) => index > 0 && fence <= fences[index - 1]);
  expect(violations).toEqual([]);
}

/** Latency of `count` sequential acquire+release cycles on a fresh resource each. */
async function acquireReleaseLatencies(
  instance: Redlock,
  name: string,
  count: number,
): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const lock = await instance.acquire([resourceName(`${name}:${i % 16}`)], 2000);
    await lock.release();
    latencies.push(performance.now() - start);
  }
  return latencies;
}

beforeEach(() => startNodes([SECOND, THIRD]));

afterEach(() => {
  // Whatever a test did, the quorum is whole again for the next one (and for other suites).
  resumeNodes();
  startNodes([SECOND, THIRD]);
});

afterAll(async () => {
  resumeNodes();
  startNodes([SECOND, THIRD]);
  await Promise.all(opened.map((instance) => instance.quit()));
  await counterClient.quit();
});

describe('Redlock: mutual exclusion', () => {
  it('the unprotected increment really loses updates (the check below can fail)', async () => {
    const key = counterKey('unprotected');
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        for (let i = 0; i < 10; i++) await unsafeIncrement(key);
      }),
    );
    expect(await counterValue(key)).toBeLessThan(500);
  });

  it('50 contenders performing 10,000 non-atomic increments under the lock count exactly', async () => {
    const fences = await contend('healthy', 50, 200);
    expect(await counterValue(counterKey('healthy'))).toBe(10_000);
    expect(fences).toHaveLength(10_000);
    expectStrictlyIncreasing(fences);
  }, 300_000);

  it('a lock on several resources excludes any lock sharing one of them', async () => {
    const instance = redlock();
    const [a, b, c] = ['multi-a', 'multi-b', 'multi-c'].map(resourceName);
    const ab = await instance.acquire([a, b], 5000);
    await expect(instance.acquire([b, c], 5000, { retryCount: 0 })).rejects.toBeInstanceOf(
      ResourceLockedError,
    );
    const cOnly = await instance.acquire([c], 5000, { retryCount: 0 });
    await ab.release();
    const bc = await instance.acquire([b], 5000, { retryCount: 0 });
    expect(bc.fence).toBeGreaterThan(ab.fence);
    await Promise.all([cOnly.release(), bc.release()]);
  });
});

describe('Redlock: errors', () => {
  it('a held resource is ResourceLockedError, not QuorumUnavailableError', async () => {
    const instance = redlock();
    const lock = await instance.acquire([resourceName('held')], 5000);
    const error = await instance
      .acquire([resourceName('held')], 5000, { retryCount: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceLockedError);
    expect(error).toBeInstanceOf(RedlockError);
    expect(error).not.toBeInstanceOf(QuorumUnavailableError);
    await lock.release();
  });

  it('refuses a ttl too short to leave any validity after the drift', async () => {
    await expect(redlock().acquire([resourceName('tiny')], 2)).rejects.toBeInstanceOf(RangeError);
  });
});

describe('Redlock: one node down', () => {
  it('keeps exact exclusion and increasing fences with a node shut down', async () => {
    stopNode(THIRD);
    const fences = await contend('one-down', 50, 40, 2);
    expect(await counterValue(counterKey('one-down'))).toBe(2000);
    expectStrictlyIncreasing(fences);
  }, 120_000);

  it('keeps fences increasing when the node that had the largest counter is lost', async () => {
    // Counters drift apart when a node grants attempts that fail elsewhere. The fence is the max
    // over the granting quorum; unless that max is written back to a quorum before the lock is
    // handed out, a later quorum without the node that had it would draw a smaller fence.
    const resource = resourceName('diverged');
    const [first, , third] = REDIS_NODES.map(adminClient);
    await Promise.all([first.connect(), third.connect()]);
    await third.set(`fence:${resource}`, '1000');
    // Someone else's key on the first node: the quorum must be the second and third nodes.
    await first.set(`lock:${resource}`, 'someone-else', 'PX', 10_000);

    const instance = redlock();
    await connected([instance]);
    const before = await instance.acquire([resource], 5000);
    expect(before.fence).toBe(1001n);
    await before.release();
    await first.del(`lock:${resource}`);
    await third.quit();

    stopNode(THIRD);
    const after = await instance.acquire([resource], 5000);
    expect(after.fence).toBeGreaterThan(before.fence);
    await after.release();
    await first.quit();
  });

  it('a node frozen with SIGSTOP neither blocks acquisition nor raises p99 beyond the node timeout', async () => {
    // Quick retries, so that a rare retry costs milliseconds in both phases alike.
    const instance = redlock({ retryDelayMs: 4, retryJitterMs: 4 });
    await connected([instance]);
    await acquireReleaseLatencies(instance, 'warm-up', 100);
    // Healthy and frozen phases alternate, so both see the same background load.
    const healthy: number[] = [];
    const frozen: number[] = [];
    for (let round = 0; round < 4; round++) {
      healthy.push(...(await acquireReleaseLatencies(instance, 'healthy-p99', 100)));
      try {
        pauseNode(THIRD);
        frozen.push(...(await acquireReleaseLatencies(instance, 'frozen-p99', 100)));
      } finally {
        resumeNodes();
      }
    }
    let counted: number;
    try {
      pauseNode(THIRD);
      await contend('frozen', 20, 25, 2);
      counted = await counterValue(counterKey('frozen'));
    } finally {
      resumeNodes();
    }
    const [healthyP99, frozenP99] = [percentile(healthy, 99), percentile(frozen, 99)];
    expect(counted).toBe(500);
    expect(frozenP99).toBeLessThanOrEqual(healthyP99 + NODE_TIMEOUT_MS);
  }, 120_000);
});

describe('Redlock: a majority down', () => {
  it('fails fast with QuorumUnavailableError when two of three nodes are down', async () => {
    const wasConnected = redlock();
    await connected([wasConnected]);
    stopNode(SECOND);
    stopNode(THIRD);

    // Clients that saw the nodes go, and clients of a process starting while they are down.
    for (const instance of [wasConnected, redlock()]) {
      const start = performance.now();
      const error = await instance
        .acquire([resourceName('majority-down')], 5000)
        .catch((e: unknown) => e);
      const elapsed = performance.now() - start;
      expect(error).toBeInstanceOf(QuorumUnavailableError);
      expect(error).not.toBeInstanceOf(ResourceLockedError);
      expect(elapsed).toBeLessThan(300);
    }
  });

  it('recovers once the nodes are back', async () => {
    const instance = redlock();
    stopNode(THIRD);
    await expect(instance.acquire([resourceName('recover')], 5000)).resolves.toBeDefined();
    startNodes([THIRD]);
    await connected([instance]);
    const lock = await instance.acquire([resourceName('recover-2')], 5000);
    await lock.release();
  });
});

describe('Redlock: validity', () => {
  it('never hands out a lock whose quorum answered after its ttl', async () => {
    const instance = redlock({ nodeTimeoutMs: 1000 });
    const resource = resourceName('late-quorum');
    await connected([instance]);
    try {
      pauseNode(SECOND);
      pauseNode(THIRD);
      // The two frozen nodes answer 150 ms later: with a 100 ms ttl the quorum is late.
      const thaw = sleep(150).then(resumeNodes);
      const error = await instance
        .acquire([resource], 100, { retryCount: 0 })
        .catch((e: unknown) => e);
      await thaw;
      expect(error).toBeInstanceOf(QuorumUnavailableError);
    } finally {
      resumeNodes();
    }
    // The late grants were released: the resource is free at once, not after the ttl.
    await sleep(20);
    const lock = await instance.acquire([resource], 5000, { retryCount: 0 });
    await lock.release();
  });

  it('a lock reports an expiresAt within its ttl', async () => {
    const instance = redlock();
    await connected([instance]);
    const lock = await instance.acquire([resourceName('expires')], 1000);
    const now = Date.now();
    expect(lock.expiresAt).toBeGreaterThan(now);
    expect(lock.expiresAt).toBeLessThanOrEqual(now + 1000 - 12);
    await lock.release();
  });
});

describe('Redlock: using()', () => {
  it('extends the lock while fn runs past the ttl, keeping others out', async () => {
    const instance = redlock();
    const resource = resourceName('using-extend');
    const outcome = await instance.using([resource], 300, async (signal, lock) => {
      await sleep(1000);
      const other = await instance
        .acquire([resource], 300, { retryCount: 0 })
        .catch((e: unknown) => e);
      return { aborted: signal.aborted, other, stillValid: lock.expiresAt > Date.now() };
    });
    expect(outcome.aborted).toBe(false);
    expect(outcome.other).toBeInstanceOf(ResourceLockedError);
    expect(outcome.stillValid).toBe(true);
    // Released afterwards.
    const next = await instance.acquire([resource], 300, { retryCount: 0 });
    await next.release();
  });

  it('aborts the signal and rejects with LockLostError when the lock is taken away', async () => {
    const instance = redlock();
    const resource = resourceName('using-lost');
    const admins = REDIS_NODES.map(adminClient);
    await Promise.all(admins.map((admin) => admin.connect()));
    try {
      let abortedWith: unknown;
      const result = instance.using([resource], 300, async (signal) => {
        // Someone deletes the lock keys everywhere (an operator, a bug): the next extension
        // finds the token gone on a majority.
        await Promise.all(admins.map((admin) => admin.del(`lock:${resource}`)));
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        abortedWith = signal.reason;
        return 'finished anyway';
      });
      await expect(result).rejects.toBeInstanceOf(LockLostError);
      expect(abortedWith).toBeInstanceOf(LockLostError);
    } finally {
      await Promise.all(admins.map((admin) => admin.quit()));
    }
  });

  it('releases the lock when fn throws', async () => {
    const instance = redlock();
    const resource = resourceName('using-throws');
    await expect(
      instance.using([resource], 5000, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const lock = await instance.acquire([resource], 5000, { retryCount: 0 });
    await lock.release();
  });
});
