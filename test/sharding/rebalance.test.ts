// shards:rebalance against the real Postgres: 3 → 4 order shards while orders are being written
// and read, with a crash between a batch's copy and its delete, finished by the CLI under Redlock.
//
// Test tables carry a per-run suffix (never the services' tables) and are dropped afterwards.
// The 4th database, orders_3, is created here if missing: the default infrastructure has 3.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { DEFAULTS, env, loadConfig } from '@app/dist-core/config';
import { HashRing } from '@app/dist-core/hashing';
import {
  ShardRouter,
  rebalance,
  shardName,
  shardUrlsDuringMove,
  type Shard,
  type ShardedTable,
} from '@app/dist-core/sharding';

const run = promisify(execFile);

const OLD_URLS = loadConfig({
  ORDER_DB_SHARDS: env.postgresUrls(DEFAULTS.ORDER_DB_SHARDS),
}).ORDER_DB_SHARDS;
const NEW_DATABASE = 'orders_3';
const NEW_URLS = [...OLD_URLS, withDatabase(OLD_URLS[0], NEW_DATABASE)];

const SUFFIX = `${process.pid}_${Date.now() % 100_000}`;
const ORDERS = `test_rebalance_${SUFFIX}_orders`;
const ITEMS = `test_rebalance_${SUFFIX}_items`;
/** The Redlock resource of this run's rebalances: its own fence sequence (see the CLI run). */
const LOCK_RESOURCE = `shards:rebalance:test:${SUFFIX}`;
const TABLES: ShardedTable[] = [
  { table: ORDERS, shardKey: 'id' },
  { table: ITEMS, shardKey: 'order_id' },
];
const SEEDED_ORDERS = 2_000;

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * Creates `database` (owned by the shards' role, and like the shards infra:up makes, open to
 * that role only) unless it exists.
 */
async function ensureDatabase(shardUrl: string, database: string): Promise<void> {
  const shard = new URL(shardUrl);
  const owner = decodeURIComponent(shard.username);
  // The postgres superuser where it exists (native infra); else the shards' own role.
  const candidates = [
    `postgres://postgres@${shard.host}/postgres`,
    withDatabase(shardUrl, 'postgres'),
  ];
  let lastError: unknown;
  for (const url of candidates) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        database,
      ]);
      if (rowCount === 0) {
        await client
          .query(`CREATE DATABASE ${database}${owner ? ` OWNER "${owner}"` : ''}`)
          .then(() => client.query(`REVOKE ALL ON DATABASE ${database} FROM PUBLIC`))
          .catch((error) => {
            if ((error as { code?: string }).code !== '42P04') throw error; // created meanwhile
          });
      }
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  throw lastError;
}

/**
 * One DataSource per URL, the test's tables created on each: what the order service's bootstrap
 * does with its own tables, owned here rather than by the router.
 */
async function openShards(urls: string[]): Promise<DataSource[]> {
  const dataSources = urls.map(
    (url) =>
      new DataSource({
        type: 'postgres',
        url,
        applicationName: 'test-rebalance',
        extra: { max: 2 },
      }),
  );
  for (const dataSource of dataSources) {
    await dataSource.initialize();
    await dataSource.query(
      `CREATE TABLE IF NOT EXISTS ${ORDERS} (id bigint PRIMARY KEY, customer_id text NOT NULL,
         total_cents bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), note jsonb)`,
    );
    await dataSource.query(
      `CREATE TABLE IF NOT EXISTS ${ITEMS} (order_id bigint NOT NULL REFERENCES ${ORDERS}(id),
         sku text NOT NULL, quantity integer NOT NULL, PRIMARY KEY (order_id, sku))`,
    );
  }
  return dataSources;
}

/** Snowflake-shaped ids: 19-digit, increasing, above 2^53 (so any JS number rounding shows). */
let lastId = 7_300_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e15));
function nextId(): string {
  lastId += BigInt(1 + Math.floor(Math.random() * 4_000_000));
  return lastId.toString();
}

/** An order and 1–3 items in one transaction on `shard`. Totals exceed 2^53 on purpose. */
async function insertOrder(shard: Shard, id: string): Promise<void> {
  await shard.dataSource.transaction(async (manager) => {
    await manager.query(
      `INSERT INTO ${ORDERS} (id, customer_id, total_cents, note) VALUES ($1, $2, $3, $4)`,
      [id, `c-${id.slice(-3)}`, (9_007_199_254_740_993n + BigInt(id.slice(-6))).toString(), { id }],
    );
    const items = 1 + (Number(id.slice(-2)) % 3);
    for (let i = 0; i < items; i++) {
      await manager.query(`INSERT INTO ${ITEMS} (order_id, sku, quantity) VALUES ($1, $2, $3)`, [
        id,
        `sku-${i}`,
        i + 1,
      ]);
    }
  });
}

interface Snapshot {
  /** Order id → names of the shards holding it. */
  orderShards: Map<string, string[]>;
  itemRows: number;
  /** Σ total_cents and Σ quantity, exact. */
  totalCents: bigint;
  quantity: bigint;
  /** Rows not on their owner under `ring` (orders and items). */
  misplaced: number;
}

async function snapshot(router: ShardRouter, ring: HashRing): Promise<Snapshot> {
  const result: Snapshot = {
    orderShards: new Map(),
    itemRows: 0,
    totalCents: 0n,
    quantity: 0n,
    misplaced: 0,
  };
  for (const shard of router.all()) {
    const orders: Array<{ id: string; total_cents: string }> = await shard.dataSource.query(
      `SELECT id::text AS id, total_cents::text AS total_cents FROM ${ORDERS}`,
    );
    for (const { id, total_cents } of orders) {
      result.orderShards.set(id, [...(result.orderShards.get(id) ?? []), shard.name]);
      result.totalCents += BigInt(total_cents);
      if (ring.owner(id) !== shard.name) result.misplaced++;
    }
    const items: Array<{ order_id: string; quantity: number }> = await shard.dataSource.query(
      `SELECT order_id::text AS order_id, quantity FROM ${ITEMS}`,
    );
    result.itemRows += items.length;
    for (const { order_id, quantity } of items) {
      result.quantity += BigInt(quantity);
      if (ring.owner(order_id) !== shard.name) result.misplaced++;
    }
  }
  return result;
}

describe('shards:rebalance, 3 → 4 shards', () => {
  let dataSources: DataSource[] = [];
  let oldRouter: ShardRouter;
  let newRouter: ShardRouter;
  const seeded: string[] = [];

  beforeAll(async () => {
    await ensureDatabase(OLD_URLS[0], NEW_DATABASE);
    // One DataSource per database for both routers, as a service holds one per shard.
    dataSources = await openShards(shardUrlsDuringMove(NEW_URLS, OLD_URLS));
    oldRouter = new ShardRouter({ dataSources: dataSources.slice(0, OLD_URLS.length) });
    for (let i = 0; i < SEEDED_ORDERS; i++) seeded.push(nextId());
    const seeders = Array.from({ length: 4 }, async (_, worker) => {
      for (let i = worker; i < seeded.length; i += 4)
        await insertOrder(oldRouter.forKey(seeded[i]), seeded[i]);
    });
    await Promise.all(seeders);
    // Step 2 of the procedure: the service restarts on the new list with the old one as
    // "previous" (its bootstrap has created the tables on the new shard).
    newRouter = new ShardRouter({
      dataSources,
      shards: NEW_URLS.length,
      previousShards: OLD_URLS.length,
    });
  }, 120_000);

  afterAll(async () => {
    for (const dataSource of dataSources.filter((d) => d.isInitialized)) {
      await dataSource.query(`DROP TABLE IF EXISTS ${ITEMS}, ${ORDERS}`);
      await dataSource.destroy();
    }
  });

  it('moves exactly the rows whose owner changed, under writes, across a crash between copy and delete', async () => {
    const oldRing = oldRouter.ring;
    const newRing = newRouter.ring;
    const before = await snapshot(newRouter, oldRing);
    expect(before.orderShards.size).toBe(SEEDED_ORDERS);
    expect(before.misplaced).toBe(0);
    const expectedMoves = seeded.filter((id) => oldRing.owner(id) !== newRing.owner(id));
    expect(expectedMoves.every((id) => newRing.owner(id) === shardName(3))).toBe(true);

    // Writers on the new configuration: new orders go straight to their new owner; reads of
    // seeded orders go through findAcrossMove and must never miss while rows move.
    let stop = false;
    const written: string[] = [];
    const readMisses: string[] = [];
    const worker = async () => {
      while (!stop) {
        const id = nextId();
        await insertOrder(newRouter.forKey(id), id);
        written.push(id);
        const probe = seeded[Math.floor(Math.random() * seeded.length)];
        const found = await newRouter.findAcrossMove(probe, async (shard) => {
          const rows: unknown[] = await shard.dataSource.query(
            `SELECT id FROM ${ORDERS} WHERE id = $1`,
            [probe],
          );
          return rows[0];
        });
        if (!found) readMisses.push(probe);
      }
    };
    const workers = [worker(), worker()];
    try {
      // First run: dies after its third batch's copy committed, before that batch's delete.
      let batches = 0;
      await expect(
        rebalance({
          from: OLD_URLS,
          to: NEW_URLS,
          tables: TABLES,
          batchSize: 50,
          afterCopy: () => {
            if (++batches === 3) throw new Error('simulated crash between copy and delete');
          },
        }),
      ).rejects.toThrow('simulated crash');
      const crashed = await snapshot(newRouter, newRing);
      const onTwoShards = [...crashed.orderShards.values()].filter((shards) => shards.length > 1);
      expect(onTwoShards.length).toBeGreaterThan(0); // the crash really left copies behind

      // While copies exist on two shards, a scatter-gather read still returns each order once.
      const newest = await newRouter.scatterGather<{ id: string }>(
        ({ dataSource }) =>
          dataSource.query(`SELECT id::text AS id FROM ${ORDERS} ORDER BY id DESC LIMIT 50`),
        {
          compare: (a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1),
          limit: 50,
          keyOf: (row) => row.id,
        },
      );
      expect(new Set(newest.map((r) => r.id)).size).toBe(newest.length);

      // Second run: the CLI as an operator runs it (under Redlock), finishing the job.
      const cli = await run(
        'npx',
        [
          'tsx',
          'libs/dist-core/src/sharding/rebalance-cli.ts',
          '--from',
          OLD_URLS.join(','),
          '--to',
          NEW_URLS.join(','),
          '--tables',
          TABLES.map((t) => `${t.table}:${t.shardKey}`).join(','),
          '--batch',
          '50',
          // This run's own fence sequence: the shared Redis nodes are restarted without
          // persistence by other suites, which resets the default resource's counters.
          '--lock-resource',
          LOCK_RESOURCE,
        ],
        { env: { ...process.env, NODE_OPTIONS: '' }, timeout: 50_000 },
      );
      const report = JSON.parse(cli.stdout.trim().split('\n').pop()!);
      expect(report.keysMoved).toBeGreaterThan(0);
      expect(Object.keys(report.routes).every((route) => route.endsWith(`→ ${shardName(3)}`))).toBe(
        true,
      );
    } finally {
      stop = true;
      await Promise.all(workers);
    }

    const after = await snapshot(newRouter, newRing);
    expect(after.misplaced).toBe(0);
    expect([...after.orderShards.values()].filter((shards) => shards.length > 1)).toEqual([]);
    expect(after.orderShards.size).toBe(SEEDED_ORDERS + written.length);
    expect(
      [...seeded, ...written].every((id) => after.orderShards.get(id)?.[0] === newRing.owner(id)),
    ).toBe(true);
    expect(written.length).toBeGreaterThan(0);
    expect(readMisses).toEqual([]);

    // Exactly the orders whose owner changed have moved, and nothing was lost on the way:
    // the sums of the >2^53 totals and of the quantities are those of the rows written.
    const movedSeeded = seeded.filter(
      (id) => after.orderShards.get(id)![0] !== before.orderShards.get(id)![0],
    );
    expect(movedSeeded.sort()).toEqual(expectedMoves.sort());
    const writtenSums = await snapshotOf(written);
    expect(after.totalCents).toBe(before.totalCents + writtenSums.totalCents);
    expect(after.quantity).toBe(before.quantity + writtenSums.quantity);
    expect(after.itemRows).toBe(before.itemRows + writtenSums.items);
  }, 120_000);

  it('does nothing on a run after the move completed', async () => {
    const report = await rebalance({ from: OLD_URLS, to: NEW_URLS, tables: TABLES });
    expect(report.keysMoved).toBe(0);
    expect(report.keysScanned).toBeGreaterThan(SEEDED_ORDERS);
  });

  it('moves a stray row written by an old-configuration process, unless its fence is stale', async () => {
    const ring = newRouter.ring;
    const id = (() => {
      for (;;) {
        const candidate = nextId();
        if (ring.owner(candidate) === shardName(1)) return candidate;
      }
    })();
    const wrongShard = newRouter.all()[0];
    await insertOrder(wrongShard, id);

    // The CLI's run claimed a Redlock fence ≥ 1 of LOCK_RESOURCE on shard-0: a holder of that
    // resource with fence 0 is a stale one. (Another resource's fences are another sequence.)
    await expect(
      rebalance({
        from: OLD_URLS,
        to: NEW_URLS,
        tables: TABLES,
        fence: 0n,
        lockResource: LOCK_RESOURCE,
      }),
    ).rejects.toThrow(/newer rebalance/);
    const stillThere: unknown[] = await wrongShard.dataSource.query(
      `SELECT 1 FROM ${ORDERS} WHERE id = $1`,
      [id],
    );
    expect(stillThere).toHaveLength(1);

    const report = await rebalance({ from: OLD_URLS, to: NEW_URLS, tables: TABLES });
    expect(report.keysMoved).toBe(1);
    expect(report.routes).toEqual({ [`${shardName(0)} → ${shardName(1)}`]: 1 });
    const moved = await snapshot(newRouter, ring);
    expect(moved.misplaced).toBe(0);
    expect(moved.orderShards.get(id)).toEqual([shardName(1)]);
  });

  it('merges the newest orders of every shard under a limit', async () => {
    const all: string[] = [];
    for (const shard of newRouter.all()) {
      const rows: Array<{ id: string }> = await shard.dataSource.query(
        `SELECT id::text AS id FROM ${ORDERS}`,
      );
      all.push(...rows.map((r) => r.id));
    }
    const expected = all
      .sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : BigInt(b) < BigInt(a) ? -1 : 0))
      .slice(0, 25);
    const newest = await newRouter.scatterGather<{ id: string }>(
      ({ dataSource }) =>
        dataSource.query(`SELECT id::text AS id FROM ${ORDERS} ORDER BY id DESC LIMIT 25`),
      {
        compare: (a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : BigInt(b.id) < BigInt(a.id) ? -1 : 0),
        limit: 25,
      },
    );
    expect(newest.map((r) => r.id)).toEqual(expected);
  });
});

/** Σ total_cents, Σ quantity and item count the insertOrder calls for `ids` wrote. */
async function snapshotOf(
  ids: string[],
): Promise<{ totalCents: bigint; quantity: bigint; items: number }> {
  let totalCents = 0n;
  let quantity = 0n;
  let items = 0;
  for (const id of ids) {
    totalCents += 9_007_199_254_740_993n + BigInt(id.slice(-6));
    const count = 1 + (Number(id.slice(-2)) % 3);
    items += count;
    quantity += BigInt((count * (count + 1)) / 2);
  }
  return { totalCents, quantity, items };
}
