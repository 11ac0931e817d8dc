import { DataSource, MigrationExecutor, type DataSourceOptions } from 'typeorm';
import { HashRing, type HashRingOptions } from '../hashing/index.js';
import { mergeSorted } from './merge-sorted.js';
import { databaseOf, redactPassword, shardName } from './shard-urls.js';

type PostgresOptions = Extract<DataSourceOptions, { type: 'postgres' }>;

export interface ShardRouterOptions {
  /** ORDER_DB_SHARDS: one Postgres URL per shard; position i is shard-i. */
  urls: string[];
  entities: PostgresOptions['entities'];
  migrations?: PostgresOptions['migrations'];
  /** TypeORM's table of applied migrations on each shard (default "migrations"). */
  migrationsTableName?: string;
  /**
   * ORDER_DB_SHARDS_PREVIOUS, set only while shards:rebalance moves rows to the ring of `urls`.
   * Reads then try a key's new owner and its previous owner (forKeyDuringMove, findAcrossMove).
   */
  previousUrls?: string[];
  /** Connections per shard per process (pg pool `max`). Default 5. */
  poolSize?: number;
  ring?: HashRingOptions;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
}

export interface ShardHandle {
  /** Stable shard name (shard-i): what the ring routes to. */
  readonly name: string;
  readonly index: number;
  readonly dataSource: DataSource;
}

export interface ScatterGatherOptions<T> {
  /** The order each shard's query returns its rows in, and the order of the result. */
  compare: (a: T, b: T) => number;
  /** Rows in the result. Each shard's query should return at most this many. */
  limit: number;
  /**
   * The row's shard key, when it also identifies the row (the root table of a sharded aggregate,
   * e.g. an order by its id). During a move a row can sit on its old and its new owner at once;
   * with keyOf, only the new owner's copy is kept.
   */
  keyOf?: (row: T) => string;
}

const DEFAULT_POOL_SIZE = 5;
/** pg_advisory_lock key: one process at a time runs a shard's migrations. */
const MIGRATION_LOCK = 'dist-core:shard-migrations';

/**
 * One TypeORM DataSource per order shard, and the consistent-hash ring that says which shard
 * holds a key (an order's Snowflake id, as a decimal string). Plain TypeScript: the order service
 * wraps it in a Nest provider and calls initialize() / destroy() from its lifecycle hooks.
 *
 * Pools are small on purpose: Postgres allows 100 connections, and shards × pool × processes
 * (3 × 5 × a few services and test workers) must fit under it.
 */
export class ShardRouter {
  readonly ring: HashRing;
  /** The ring before the move in progress, if any. */
  readonly previousRing: HashRing | undefined;
  private readonly handles: ShardHandle[];
  /** Shards of the previous list that the new list no longer has (a shard being removed). */
  private readonly leavingHandles: ShardHandle[];
  private readonly byName = new Map<string, ShardHandle>();

  constructor(private readonly options: ShardRouterOptions) {
    const { urls, previousUrls } = options;
    if (urls.length === 0) throw new Error('ShardRouter needs at least one shard URL');
    const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
    if (!Number.isInteger(poolSize) || poolSize < 1) {
      throw new Error(`ShardRouter poolSize must be a positive integer, got ${poolSize}`);
    }
    if (previousUrls) {
      // Positional names only work if shard-i is the same database before and after.
      for (let i = 0; i < Math.min(urls.length, previousUrls.length); i++) {
        if (databaseOf(urls[i]) !== databaseOf(previousUrls[i])) {
          throw new Error(
            `${shardName(i)} is ${redactPassword(previousUrls[i])} before the move but ` +
              `${redactPassword(urls[i])} after it: shards are named by position, append new ones`,
          );
        }
      }
    }

    const handleFor = (url: string, index: number): ShardHandle => {
      databaseOf(url); // validates the URL
      const handle: ShardHandle = {
        name: shardName(index),
        index,
        dataSource: new DataSource({
          type: 'postgres',
          url,
          entities: options.entities,
          migrations: options.migrations ?? [],
          migrationsTableName: options.migrationsTableName,
          migrationsRun: false,
          synchronize: false,
          applicationName: options.applicationName,
          extra: { max: poolSize },
        }),
      };
      this.byName.set(handle.name, handle);
      return handle;
    };
    this.handles = urls.map(handleFor);
    this.leavingHandles = (previousUrls ?? [])
      .map((url, index) => ({ url, index }))
      .filter(({ index }) => index >= urls.length)
      .map(({ url, index }) => handleFor(url, index));

    this.ring = new HashRing(
      this.handles.map((h) => h.name),
      options.ring,
    );
    this.previousRing = previousUrls
      ? new HashRing(
          previousUrls.map((_, i) => shardName(i)),
          options.ring,
        )
      : undefined;
  }

  /** Connects every shard and runs pending migrations on each. */
  async initialize(): Promise<void> {
    const shards = [...this.handles, ...this.leavingHandles];
    try {
      await Promise.all(shards.map((shard) => this.initializeShard(shard)));
    } catch (error) {
      await this.destroy();
      throw error;
    }
  }

  async destroy(): Promise<void> {
    await Promise.all(
      [...this.handles, ...this.leavingHandles]
        .filter((shard) => shard.dataSource.isInitialized)
        .map((shard) => shard.dataSource.destroy()),
    );
  }

  /** The shard that owns `key` (for an order: its Snowflake id as a decimal string). */
  forKey(key: string): ShardHandle {
    return this.handles[this.ring.ownerIndex(key)];
  }

  /** Every current shard, in ORDER_DB_SHARDS order. */
  all(): readonly ShardHandle[] {
    return this.handles;
  }

  /** Whether a move (ORDER_DB_SHARDS_PREVIOUS → ORDER_DB_SHARDS) is in progress. */
  get moving(): boolean {
    return this.previousRing !== undefined;
  }

  /**
   * Where to look for `key`, in order: its owner, then (during a move, if different) its
   * previous owner. New rows are always written to the first.
   */
  forKeyDuringMove(key: string): ShardHandle[] {
    const owner = this.forKey(key);
    if (!this.previousRing) return [owner];
    const previous = this.byName.get(this.previousRing.owner(key))!;
    return previous === owner ? [owner] : [owner, previous];
  }

  /**
   * Reads a keyed row (or aggregate) wherever a move in progress may have left it.
   *
   * Why the new owner first: shards:rebalance copies a row, commits the copy, and only then
   * deletes the original, so while both exist the new owner's copy is the authoritative one
   * (writes go there). Why a second look at the new owner: between our read of the new owner and
   * our read of the old one, the row can move; the copy commits before the delete, so a row that
   * is missing on the old owner must by then be on the new one. Outside a move this is one read.
   * `read` returns null/undefined for "not here".
   */
  async findAcrossMove<T>(
    key: string,
    read: (shard: ShardHandle) => Promise<T | null | undefined>,
  ): Promise<T | null> {
    const [owner, previous] = this.forKeyDuringMove(key);
    const found = await read(owner);
    if (found !== null && found !== undefined) return found;
    if (!previous) return null;
    const old = await read(previous);
    if (old !== null && old !== undefined) return old;
    return (await read(owner)) ?? null;
  }

  /**
   * Runs `query` on every shard in parallel (including one being removed, during a move) and
   * merges their sorted results under `limit`. For "newest orders of a customer": each shard
   * returns its newest `limit`, and the k-way merge keeps the newest `limit` overall.
   */
  async scatterGather<T>(
    query: (dataSource: DataSource, shard: ShardHandle) => Promise<T[]>,
    options: ScatterGatherOptions<T>,
  ): Promise<T[]> {
    const shards = [...this.handles, ...this.leavingHandles];
    const results = await Promise.all(shards.map((shard) => query(shard.dataSource, shard)));
    const { keyOf } = options;
    if (!keyOf || !this.moving) return mergeSorted(results, options);

    // A row on a shard that does not own it is a copy the move has not deleted yet: drop it
    // when its owner returned the row too.
    const onOwner = new Set<string>();
    results.forEach((rows, i) => {
      for (const row of rows) {
        const key = keyOf(row);
        if (this.ring.owner(key) === shards[i].name) onOwner.add(key);
      }
    });
    const deduplicated = results.map((rows, i) =>
      rows.filter((row) => {
        const key = keyOf(row);
        return this.ring.owner(key) === shards[i].name || !onOwner.has(key);
      }),
    );
    return mergeSorted(deduplicated, options);
  }

  private async initializeShard(shard: ShardHandle): Promise<void> {
    try {
      await shard.dataSource.initialize();
      const runner = shard.dataSource.createQueryRunner();
      try {
        // TypeORM does not lock while migrating; two processes starting together would both
        // run the same migration. A session advisory lock on this connection serializes them.
        await runner.query('SELECT pg_advisory_lock(hashtext($1))', [MIGRATION_LOCK]);
        try {
          const executor = new MigrationExecutor(shard.dataSource, runner);
          executor.transaction = 'each';
          await executor.executePendingMigrations();
        } finally {
          await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [MIGRATION_LOCK]);
        }
      } finally {
        await runner.release();
      }
    } catch (error) {
      const url = this.urlOf(shard);
      throw new Error(
        `${shard.name} (${redactPassword(url)}): ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  private urlOf(shard: ShardHandle): string {
    return shard.index < this.options.urls.length
      ? this.options.urls[shard.index]
      : (this.options.previousUrls?.[shard.index] ?? '');
  }
}
