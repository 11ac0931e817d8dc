// Fencing tokens end to end: Redlock on the three real Redis nodes, the guard in real Postgres.
// The scenario is Kleppmann's ("How to do distributed locking", 2016): a holder pauses past its
// ttl, another acquires and writes, the first wakes up still believing it holds the lock.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { DEFAULTS, env, loadConfig } from '@app/dist-core/config';
import {
  Redlock,
  claimFence,
  createRedlockClients,
  lockFencesTableSql,
} from '@app/dist-core/redlock';

const { REDIS_NODES, PAYMENT_DB_URL } = loadConfig({
  REDIS_NODES: env.redisUrls(DEFAULTS.REDIS_NODES),
  PAYMENT_DB_URL: env.postgresUrl(DEFAULTS.PAYMENT_DB_URL),
});
// Before `npm run infra:up` has created the payment database, the server's own database serves.
const FALLBACK_DB_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

const run = randomUUID().slice(0, 8);
const fences = `lock_fences_test_${run}`;
const accounts = `fenced_accounts_test_${run}`;
const redlock = new Redlock(createRedlockClients(REDIS_NODES), {
  retryDelayMs: 50,
  retryJitterMs: 25,
});
let dbUrl = PAYMENT_DB_URL;
// Two holders are two processes: each has its own connection.
let holderA: pg.Client;
let holderB: pg.Client;

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

beforeAll(async () => {
  holderA = await connect(dbUrl).catch(async () => {
    dbUrl = FALLBACK_DB_URL;
    return connect(dbUrl);
  });
  holderB = await connect(dbUrl);
  await holderA.query(lockFencesTableSql(fences));
  await holderA.query(`CREATE TABLE ${accounts} (id text PRIMARY KEY, written_by text NOT NULL)`);
});

afterAll(async () => {
  await holderA?.query(`DROP TABLE IF EXISTS ${fences}, ${accounts}`);
  await Promise.all([holderA?.end(), holderB?.end(), redlock.quit()]);
});

/** The protected write, fenced: returns whether it happened. */
async function fencedWrite(
  db: pg.Client,
  resource: string,
  fence: bigint,
  writer: string,
): Promise<boolean> {
  await db.query('BEGIN');
  try {
    if (!(await claimFence(db, resource, fence, fences))) {
      await db.query('ROLLBACK');
      return false;
    }
    await db.query(
      `INSERT INTO ${accounts} (id, written_by) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET written_by = $2`,
      [resource, writer],
    );
    await db.query('COMMIT');
    return true;
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  }
}

async function writtenBy(resource: string): Promise<string | undefined> {
  const { rows } = await holderA.query(`SELECT written_by FROM ${accounts} WHERE id = $1`, [
    resource,
  ]);
  return rows[0]?.written_by;
}

describe('fencing tokens', () => {
  it('refuses the write of a holder that paused past its ttl once another holder has written', async () => {
    const resource = `account:${run}:paused`;
    const first = await redlock.acquire([resource], 300);

    // The first holder stops (GC pause, swapped out, stalled VM) for longer than its ttl.
    await sleep(500);

    const second = await redlock.acquire([resource], 5000);
    expect(second.fence).toBeGreaterThan(first.fence);
    expect(await fencedWrite(holderB, resource, second.fence, 'second')).toBe(true);

    // The first holder resumes and writes, unaware that its lock expired.
    expect(await fencedWrite(holderA, resource, first.fence, 'first')).toBe(false);
    expect(await writtenBy(resource)).toBe('second');
    await second.release();
  });

  it('lets the current holder write several times under one lock', async () => {
    const resource = `account:${run}:repeat`;
    const lock = await redlock.acquire([resource], 5000);
    expect(await fencedWrite(holderA, resource, lock.fence, 'one')).toBe(true);
    expect(await fencedWrite(holderA, resource, lock.fence, 'two')).toBe(true);
    expect(await writtenBy(resource)).toBe('two');
    await lock.release();
  });

  it('serialises fenced transactions: a newer holder waits for the older one to commit', async () => {
    const resource = `account:${run}:overlap`;
    const older = await redlock.acquire([resource], 300);
    await holderA.query('BEGIN');
    expect(await claimFence(holderA, resource, older.fence, fences)).toBe(true);

    await sleep(400); // the older lock expires while its transaction is still open
    const newer = await redlock.acquire([resource], 5000);
    const newerWrite = fencedWrite(holderB, resource, newer.fence, 'newer');
    await sleep(100);
    await holderA.query(
      `INSERT INTO ${accounts} (id, written_by) VALUES ($1, 'older') ON CONFLICT (id) DO UPDATE SET written_by = 'older'`,
      [resource],
    );
    await holderA.query('COMMIT');

    // The newer claim re-checks after the older commit and still wins; the last word is newer's.
    expect(await newerWrite).toBe(true);
    expect(await writtenBy(resource)).toBe('newer');
    expect(await fencedWrite(holderA, resource, older.fence, 'older-again')).toBe(false);
    await newer.release();
  });

  it('compares fences beyond 2^53 exactly (decimal strings at the boundary)', async () => {
    const resource = `account:${run}:big`;
    const big = 2n ** 60n;
    expect(await fencedWrite(holderA, resource, big + 1n, 'larger')).toBe(true);
    expect(await fencedWrite(holderB, resource, big, 'smaller')).toBe(false);
    const { rows } = await holderA.query(
      `SELECT fence::text AS fence FROM ${fences} WHERE resource = $1`,
      [resource],
    );
    expect(rows[0].fence).toBe((big + 1n).toString());
  });
});
