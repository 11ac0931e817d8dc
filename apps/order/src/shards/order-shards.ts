import { Inject, Injectable } from '@nestjs/common';
import { PostgresDatabases, SERVICE_CONFIG } from '@app/dist-core/bootstrap';
import { ConfigError } from '@app/dist-core/config';
import { ShardRouter, shardUrlsDuringMove, type Shard } from '@app/dist-core/sharding';
import type { OrderConfig } from '../config.js';

/**
 * The order shards: the lib's ShardRouter over the DataSources the bootstrap opened (one per
 * entry of orderShardUrls, each with its migrations and outbox relay). An order is keyed by its
 * Snowflake id, an idempotency key by the key itself.
 */
@Injectable()
export class OrderShards extends ShardRouter {
  constructor(databases: PostgresDatabases, @Inject(SERVICE_CONFIG) config: OrderConfig) {
    super({
      dataSources: orderShardUrls(config).map((_, i) => databases.get(orderShardDatabase(i))),
      shards: config.ORDER_DB_SHARDS.length,
      previousShards: config.ORDER_DB_SHARDS_PREVIOUS?.length,
    });
  }

  /** The shard holding order `id` (during a move, maybe its previous owner). */
  holdingOrder(id: string): Promise<Shard> {
    return this.locate(id, (shard) => exists(shard, 'SELECT 1 FROM orders WHERE id = $1', [id]));
  }

  /** The shard holding (or to hold) a customer's idempotency key. */
  holdingIdempotencyKey(customerId: string, key: string): Promise<Shard> {
    const sql = 'SELECT 1 FROM idempotency_keys WHERE customer_id = $1 AND key = $2';
    return this.locate(key, (shard) => exists(shard, sql, [customerId, key]));
  }
}

async function exists(shard: Shard, sql: string, parameters: unknown[]): Promise<boolean> {
  return ((await shard.dataSource.query(sql, parameters)) as unknown[]).length > 0;
}

/** ORDER_DB_SHARDS, then during a removal the ORDER_DB_SHARDS_PREVIOUS entries still read. */
export function orderShardUrls(config: OrderConfig): string[] {
  try {
    return shardUrlsDuringMove(config.ORDER_DB_SHARDS, config.ORDER_DB_SHARDS_PREVIOUS);
  } catch (error) {
    throw new ConfigError('ORDER_DB_SHARDS_PREVIOUS', (error as Error).message);
  }
}

/** The bootstrap's name for the DataSource of shard i (health key, logs). */
export function orderShardDatabase(index: number): string {
  return `orders_${index}`;
}
