import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { PostgresDatabases, SERVICE_CONFIG } from '@app/dist-core/bootstrap';
import { HashRing } from '@app/dist-core/hashing';
import { mergeSorted, shardName } from '@app/dist-core/sharding';
import type { OrderConfig } from '../config.js';

export interface OrderShard {
  /** `shard-i`: the ring's name for the i-th entry of ORDER_DB_SHARDS. */
  name: string;
  dataSource: DataSource;
}

/**
 * The order shards and which one holds a key: an order by its Snowflake id, an idempotency key
 * by the key itself.
 *
 * Why not `ShardRouter` itself: it opens its own DataSource per URL, while the bootstrap already
 * opened one per shard (`orders_0`…) and runs an outbox relay on each; a second set would double
 * the connections and leave the router's pools without relays. So this is the router's routing
 * over the bootstrap's DataSources: the same ring (HashRing with the default options) over the
 * same positional names (`shardName(i)` = `shard-i`), so every key lands where the router — and
 * `shards:rebalance`, which moves rows by that ring — expects it. Reads during a move
 * (ORDER_DB_SHARDS_PREVIOUS) are not wired here; see libs/dist-core/src/sharding/README.md.
 */
@Injectable()
export class OrderShards {
  private readonly shards: OrderShard[];
  private readonly ring: HashRing;

  constructor(databases: PostgresDatabases, @Inject(SERVICE_CONFIG) config: OrderConfig) {
    this.shards = config.ORDER_DB_SHARDS.map((_, index) => ({
      name: shardName(index),
      dataSource: databases.get(orderShardDatabase(index)),
    }));
    this.ring = new HashRing(this.shards.map((s) => s.name));
  }

  forKey(key: string): OrderShard {
    return this.shards[this.ring.ownerIndex(key)];
  }

  all(): readonly OrderShard[] {
    return this.shards;
  }

  /**
   * Runs `query` on every shard at once and merges the sorted results: each shard returns its
   * first `limit` rows in `compare` order, and the k-way merge keeps the first `limit` overall.
   */
  async scatterGather<T>(
    query: (shard: OrderShard) => Promise<T[]>,
    options: { compare: (a: T, b: T) => number; limit: number },
  ): Promise<T[]> {
    const results = await Promise.all(this.shards.map((shard) => query(shard)));
    return mergeSorted(results, options);
  }
}

/** The bootstrap's name for the DataSource of the i-th ORDER_DB_SHARDS entry (health key, logs). */
export function orderShardDatabase(index: number): string {
  return `orders_${index}`;
}
