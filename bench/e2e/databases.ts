import pg from 'pg';
import { DEFAULTS, env, loadConfig } from '@app/dist-core/config';
import { HashRing } from '@app/dist-core/hashing';
import { shardName } from '@app/dist-core/sharding';
import {
  ledgerSnapshot,
  type AccountRow,
  type LedgerSnapshot,
  type OrderRow,
  type ProductRow,
} from './conservation.js';

/**
 * The databases an order touches, as the services configure them (the same variables and
 * defaults), with the order shards routed by the same ring as the order service's OrderShards.
 */
export class BenchDatabases {
  readonly orderShards: pg.Pool[];
  readonly payment: pg.Pool;
  readonly inventory: pg.Pool;
  /** Database names, for pg_stat_database. */
  readonly names: string[];
  private readonly ring: HashRing;
  /** On the `postgres` database, so reading the statistics adds no commit to those measured. */
  private readonly stats: pg.Pool;

  constructor(poolSize: number) {
    const {
      ORDER_DB_SHARDS: shardUrls,
      PAYMENT_DB_URL: paymentUrl,
      INVENTORY_DB_URL: inventoryUrl,
    } = loadConfig({
      ORDER_DB_SHARDS: env.postgresUrls(DEFAULTS.ORDER_DB_SHARDS),
      PAYMENT_DB_URL: env.postgresUrl(DEFAULTS.PAYMENT_DB_URL),
      INVENTORY_DB_URL: env.postgresUrl(DEFAULTS.INVENTORY_DB_URL),
    });
    const pool = (url: string) => new pg.Pool({ connectionString: url, max: poolSize });
    this.orderShards = shardUrls.map(pool);
    this.payment = pool(paymentUrl);
    this.inventory = pool(inventoryUrl);
    this.names = [...shardUrls, paymentUrl, inventoryUrl].map((url) =>
      decodeURIComponent(new URL(url).pathname.slice(1)),
    );
    this.ring = new HashRing(shardUrls.map((_, index) => shardName(index)));
    const statsUrl = new URL(inventoryUrl);
    statsUrl.pathname = '/postgres';
    this.stats = new pg.Pool({ connectionString: statsUrl.toString(), max: 1 });
  }

  shardIndexOf(orderId: string): number {
    return this.ring.ownerIndex(orderId);
  }

  shardOf(orderId: string): pg.Pool {
    return this.orderShards[this.shardIndexOf(orderId)];
  }

  /**
   * Σ xact_commit over the involved databases. The figures are cumulative and each backend
   * flushes its own at most once a second while busy (PG15), so a difference of two readings
   * taken under steady load is right to about a second's worth at each end.
   */
  async commits(): Promise<number> {
    const client = await this.stats.connect();
    try {
      await client.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await client.query<{ commits: string }>(
        'SELECT sum(xact_commit)::text AS commits FROM pg_stat_database WHERE datname = ANY($1)',
        [this.names],
      );
      return Number(rows[0].commits);
    } finally {
      client.release();
    }
  }

  /** Stock, money and orders of the bench's own customers and products, for conservation. */
  async snapshot(customers: string[], skus: string[]): Promise<LedgerSnapshot> {
    const [products, accounts, ...shards] = await Promise.all([
      this.inventory.query<ProductRow>(
        'SELECT sku, available, reserved, sold FROM products WHERE sku = ANY($1)',
        [skus],
      ),
      this.payment.query<AccountRow>(
        `SELECT customer_id, available_cents, frozen_cents, spent_cents FROM accounts
         WHERE customer_id = ANY($1)`,
        [customers],
      ),
      ...this.orderShards.map((shard) =>
        shard.query<OrderRow>(
          'SELECT customer_id, status, total_cents, items FROM orders WHERE customer_id = ANY($1)',
          [customers],
        ),
      ),
    ]);
    return ledgerSnapshot(
      products.rows,
      accounts.rows,
      shards.flatMap((shard) => shard.rows),
    );
  }

  async end(): Promise<void> {
    await Promise.all(
      [...this.orderShards, this.payment, this.inventory, this.stats].map((p) => p.end()),
    );
  }
}
