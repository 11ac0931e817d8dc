import type { DataSource } from 'typeorm';
import { HashRing, type HashRingOptions } from '../hashing/index.js';
import { shardName } from './shard-urls.js';

export interface Shard {
  /** Stable shard name (shard-i): what the ring routes to. */
  readonly name: string;
  readonly index: number;
  readonly dataSource: DataSource;
}

export interface ShardRouterOptions {
  /**
   * Shard i's DataSource at position i, opened, migrated and closed by its owner (a service's
   * bootstrap): the entries of ORDER_DB_SHARDS, then those of ORDER_DB_SHARDS_PREVIOUS beyond
   * it (shards being removed). `shardUrlsDuringMove` gives that list of URLs.
   */
  dataSources: readonly DataSource[];
  /** Shards in the ring: ORDER_DB_SHARDS' length. Default: every DataSource. */
  shards?: number;
  /**
   * Shards in the ring before the move in progress: ORDER_DB_SHARDS_PREVIOUS' length, set only
   * while shards:rebalance moves rows. Reads then also try a key's previous owner.
   */
  previousShards?: number;
  ring?: HashRingOptions;
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

/**
 * The consistent-hash ring over a set of shards: which shard holds a key (an order's Snowflake
 * id as a decimal string), where to look for it while rows move, and queries over every shard.
 *
 * It routes over DataSources it does not own: the service's bootstrap opens one per shard, runs
 * its migrations and an outbox relay on it, and closes it; a router opening its own would double
 * the connections and leave its pools without relays.
 */
export class ShardRouter {
  readonly ring: HashRing;
  /** The ring before the move in progress, if any. */
  readonly previousRing: HashRing | undefined;
  /** Every shard with a DataSource: the ring's, then any the move is removing. */
  private readonly shards: Shard[];

  constructor(options: ShardRouterOptions) {
    const { dataSources, previousShards } = options;
    const count = options.shards ?? dataSources.length;
    const sizes = previousShards === undefined ? [count] : [count, previousShards];
    // Positional names: shard-i is dataSources[i] in both rings, so one list serves both.
    if (
      !sizes.every((n) => Number.isInteger(n) && n >= 1) ||
      dataSources.length !== Math.max(...sizes)
    ) {
      throw new Error(
        `ShardRouter: ${dataSources.length} DataSources for rings of ${sizes.join(' and ')} shards`,
      );
    }
    this.shards = dataSources.map((dataSource, index) => ({
      name: shardName(index),
      index,
      dataSource,
    }));
    const ringOf = (n: number) =>
      new HashRing(
        this.shards.slice(0, n).map((s) => s.name),
        options.ring,
      );
    this.ring = ringOf(count);
    this.previousRing = previousShards === undefined ? undefined : ringOf(previousShards);
  }

  /** The shard that owns `key`: where its rows are written. */
  forKey(key: string): Shard {
    return this.shards[this.ring.ownerIndex(key)];
  }

  /** Every shard, in list order: the ring's, and during a removal the shard(s) leaving it. */
  all(): readonly Shard[] {
    return this.shards;
  }

  /** Whether a move (ORDER_DB_SHARDS_PREVIOUS → ORDER_DB_SHARDS) is in progress. */
  get moving(): boolean {
    return this.previousRing !== undefined;
  }

  /**
   * Where to look for `key`, in order: its owner, then (during a move, if different) its
   * previous owner. New rows are always written to the first.
   */
  forKeyDuringMove(key: string): Shard[] {
    const owner = this.forKey(key);
    if (!this.previousRing) return [owner];
    const previous = this.shards[this.previousRing.ownerIndex(key)];
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
    read: (shard: Shard) => Promise<T | null | undefined>,
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
   * The shard to work on `key`'s rows: outside a move its owner, without a query; during one,
   * the first of its owner and previous owner where `holds` finds them, else the owner (where a
   * key seen for the first time is written).
   */
  async locate(key: string, holds: (shard: Shard) => Promise<boolean>): Promise<Shard> {
    if (!this.moving) return this.forKey(key);
    const found = await this.findAcrossMove(key, async (shard) =>
      (await holds(shard)) ? shard : null,
    );
    return found ?? this.forKey(key);
  }

  /**
   * Runs `query` on every shard in parallel (including one being removed, during a move) and
   * merges their sorted results under `limit`. For "newest orders of a customer": each shard
   * returns its newest `limit`, and the k-way merge keeps the newest `limit` overall.
   */
  async scatterGather<T>(
    query: (shard: Shard) => Promise<T[]>,
    options: ScatterGatherOptions<T>,
  ): Promise<T[]> {
    const results = await Promise.all(this.shards.map((shard) => query(shard)));
    const { keyOf } = options;
    if (!keyOf || !this.moving) return mergeSorted(results, options);

    // A row on a shard that does not own it is a copy the move has not deleted yet: drop it
    // when its owner returned the row too.
    const isOwner = (row: T, i: number) => this.ring.owner(keyOf(row)) === this.shards[i].name;
    const onOwner = new Set(
      results.flatMap((rows, i) => rows.filter((row) => isOwner(row, i))).map(keyOf),
    );
    const deduplicated = results.map((rows, i) =>
      rows.filter((row) => isOwner(row, i) || !onOwner.has(keyOf(row))),
    );
    return mergeSorted(deduplicated, options);
  }
}

/**
 * k-way merge of lists that are each sorted by `compare`, stopping after `limit` items.
 *
 * The smallest head is found by a linear scan, not a heap: k is the number of shards (a handful),
 * where a scan of k heads beats heap bookkeeping and reads top to bottom. Equal heads are taken
 * from the lowest list index first, so the result is deterministic.
 */
export function mergeSorted<T>(
  lists: ReadonlyArray<readonly T[]>,
  options: Pick<ScatterGatherOptions<T>, 'compare' | 'limit'>,
): T[] {
  const { compare, limit } = options;
  const heads = lists.map(() => 0);
  const merged: T[] = [];
  while (merged.length < limit) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      if (heads[i] >= lists[i].length) continue;
      if (best === -1 || compare(lists[i][heads[i]], lists[best][heads[best]]) < 0) best = i;
    }
    if (best === -1) break;
    merged.push(lists[best][heads[best]++]);
  }
  return merged;
}
