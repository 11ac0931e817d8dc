import { Redlock, createRedlockClients, closeRedisClients } from '@app/dist-core/redlock';
import { loadConfig, sharedConfig } from '@app/dist-core/config';
import { SnowflakeGenerator, WorkerIdLease } from '@app/dist-core/snowflake';
import type { BenchDatabases } from './databases.js';
import type { Outcome } from './closed-loop.js';
import type { Fixtures } from './fixtures.js';

/**
 * The baseline: the business writes of one order done directly by this one process against the
 * same databases, each in its own local transaction, with no Kafka, outbox, saga or TCC:
 *   1. inventory: take the unit from the product (conditional UPDATE: never below zero),
 *   2. payment:   move the price out of the account (conditional UPDATE) and record the
 *                 movement row, one statement,
 *   3. order:     insert the COMPLETED order on the shard the ring gives its id.
 * Three round trips and three commits per order: what the system's work costs without the
 * machinery that makes it survive crashes.
 */
export class Baseline {
  private constructor(
    private readonly databases: BenchDatabases,
    private readonly ids: SnowflakeGenerator,
    private readonly release: () => Promise<void>,
  ) {}

  /** Order ids come from a leased Snowflake worker id, as the services' do: never a clash. */
  static async open(databases: BenchDatabases): Promise<Baseline> {
    const { REDIS_NODES } = loadConfig({ REDIS_NODES: sharedConfig('order').REDIS_NODES });
    const clients = createRedlockClients(REDIS_NODES);
    const lease = await WorkerIdLease.claim(new Redlock(clients));
    return new Baseline(databases, new SnowflakeGenerator(lease), async () => {
      await lease.release();
      await closeRedisClients(clients);
    });
  }

  work(fixtures: Fixtures): (worker: number) => Promise<Outcome> {
    return async (worker) => {
      const slot = worker % fixtures.customers.length;
      const customerId = fixtures.customers[slot];
      const sku = fixtures.skus[slot];
      const quantity = 1;
      const orderId = this.ids.nextId();
      const startedAt = Date.now();

      const stock = await this.databases.inventory.query<{ price_cents: string }>(
        `UPDATE products SET available = available - $2, sold = sold + $2, updated_at = now()
         WHERE sku = $1 AND available >= $2 RETURNING price_cents`,
        [sku, quantity],
      );
      if (stock.rowCount !== 1) throw new Error(`baseline: ${sku} out of stock`);
      const unitPriceCents = Number(stock.rows[0].price_cents);
      const totalCents = unitPriceCents * quantity;

      const funds = await this.databases.payment.query(
        `WITH moved AS (
           UPDATE accounts SET available_cents = available_cents - $3,
                               spent_cents = spent_cents + $3, updated_at = now()
           WHERE customer_id = $2 AND available_cents >= $3 RETURNING customer_id)
         INSERT INTO payment_movements (order_id, customer_id, amount_cents, kind, state)
         SELECT $1, customer_id, $3, 'CHARGE', 'CHARGED' FROM moved`,
        [orderId, customerId, totalCents],
      );
      if (funds.rowCount !== 1) throw new Error(`baseline: ${customerId} has too little`);

      await this.databases.shardOf(orderId).query(
        `INSERT INTO orders (id, customer_id, strategy, status, reason, items, total_cents,
                             created_at, updated_at)
         VALUES ($1, $2, 'saga', 'COMPLETED', NULL, $3::jsonb, $4, now(), now())`,
        [orderId, customerId, JSON.stringify([{ sku, quantity, unitPriceCents }]), totalCents],
      );
      return { startedAt, endedAt: Date.now(), completed: true };
    };
  }

  close(): Promise<void> {
    return this.release();
  }
}
