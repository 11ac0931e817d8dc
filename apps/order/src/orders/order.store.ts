import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PostgresDatabases, SERVICE_CONFIG } from '@app/dist-core/bootstrap';
import { ConfigError } from '@app/dist-core/config';
import { ShardRouter, shardUrlsDuringMove, type Shard } from '@app/dist-core/sharding';
import type { OrderConfig } from '../config.js';
import type { Order, OrderItem, OrderStatus, OrderStrategy } from './order.js';

/*
 * Where orders are stored: which shard holds an order (OrderShards), then the SQL of the
 * `orders` table of one shard, whose callers pick the shard and the transaction.
 */

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

// The `orders` table of one shard.

interface OrderRow {
  id: string;
  customer_id: string;
  strategy: OrderStrategy;
  status: OrderStatus;
  reason: string | null;
  items: OrderItem[];
  total_cents: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, customer_id, strategy, status, reason, items, total_cents, created_at, updated_at`;

function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    customerId: row.customer_id,
    strategy: row.strategy,
    status: row.status,
    reason: row.reason,
    items: row.items,
    // bigint comes back as a string; cents stay far below 2^53 (100 lines × 10,000 × a price).
    totalCents: row.total_cents === null ? null : Number(row.total_cents),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Inserts a new PENDING order; false if an order with this id exists. ON CONFLICT rather than a
 * check: two requests recreating the same order (an idempotency-key replay racing the first
 * request) cannot both insert, and the loser waits for the winner's commit.
 */
export async function insertOrder(
  manager: EntityManager,
  order: Order,
  idempotency: { key: string; requestHash: string } | null,
): Promise<boolean> {
  const rows = (await manager.query(
    `INSERT INTO orders (id, customer_id, strategy, status, reason, items, total_cents,
       idempotency_key, request_hash, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $10)
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    [
      order.id,
      order.customerId,
      order.strategy,
      order.status,
      order.reason,
      JSON.stringify(order.items),
      order.totalCents,
      idempotency?.key ?? null,
      idempotency?.requestHash ?? null,
      order.createdAt,
    ],
  )) as unknown[];
  return rows.length === 1;
}

export async function findOrder(manager: EntityManager, id: string): Promise<Order | null> {
  const rows = (await manager.query(`SELECT ${COLUMNS} FROM orders WHERE id = $1`, [
    id,
  ])) as OrderRow[];
  return rows.length === 0 ? null : toOrder(rows[0]);
}

/** A customer's newest orders on this shard (Snowflake ids grow with time). */
export async function listOrdersOfCustomer(
  manager: EntityManager,
  customerId: string,
  limit: number,
): Promise<Order[]> {
  const rows = (await manager.query(
    `SELECT ${COLUMNS} FROM orders WHERE customer_id = $1 ORDER BY id DESC LIMIT $2`,
    [customerId, limit],
  )) as OrderRow[];
  return rows.map(toOrder);
}

/** The newest orders on this shard, whoever placed them (the primary key is the index). */
export async function listRecentOrders(manager: EntityManager, limit: number): Promise<Order[]> {
  const rows = (await manager.query(`SELECT ${COLUMNS} FROM orders ORDER BY id DESC LIMIT $1`, [
    limit,
  ])) as OrderRow[];
  return rows.map(toOrder);
}

/**
 * Ends a PENDING order, in the transaction of the flow's last transition. Compare-and-set on
 * status = PENDING: a terminal status never changes again, whatever arrives late. Returns false
 * if the order was not PENDING (or does not exist).
 */
export async function settleOrder(
  manager: EntityManager,
  id: string,
  outcome: {
    status: 'COMPLETED' | 'CANCELLED';
    reason: string | null;
    items: OrderItem[] | null;
    totalCents: number | null;
    at: Date;
  },
): Promise<boolean> {
  const [, count] = (await manager.query(
    `UPDATE orders
        SET status = $2, reason = $3, items = COALESCE($4::jsonb, items),
            total_cents = COALESCE($5, total_cents), updated_at = $6
      WHERE id = $1 AND status = 'PENDING'`,
    [
      id,
      outcome.status,
      outcome.reason,
      outcome.items === null ? null : JSON.stringify(outcome.items),
      outcome.totalCents,
      outcome.at,
    ],
  )) as [unknown, number];
  return count === 1;
}
