import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The orders of one shard. An order is a single row: its lines are a jsonb array (they are
 * written once, priced once and always read with the order), so a shard move copies one row.
 */
export class CreateOrders1795750000301 implements MigrationInterface {
  name = 'CreateOrders1795750000301';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS orders (
        id               bigint PRIMARY KEY,
        customer_id      text NOT NULL,
        strategy         text NOT NULL CHECK (strategy IN ('saga', 'tcc')),
        status           text NOT NULL CHECK (status IN ('PENDING', 'COMPLETED', 'CANCELLED')),
        reason           text,
        items            jsonb NOT NULL,
        total_cents      bigint CHECK (total_cents >= 0),
        idempotency_key  text,
        request_hash     text,
        created_at       timestamptz NOT NULL,
        updated_at       timestamptz NOT NULL,
        CHECK ((status = 'CANCELLED') = (reason IS NOT NULL))
      )`);
    // GET /orders?customerId=: a customer's newest orders (ids grow with time).
    await queryRunner.query(
      'CREATE INDEX IF NOT EXISTS orders_customer_idx ON orders (customer_id, id DESC)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE IF EXISTS orders');
  }
}

/**
 * Idempotency keys, on the shard the key itself hashes to (see orders/idempotency-keys.ts):
 * the primary key on `key` is what lets exactly one request claim it.
 */
export class CreateIdempotencyKeys1795750000302 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1795750000302';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS idempotency_keys (
        key           text PRIMARY KEY,
        request_hash  text NOT NULL,
        order_id      bigint NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE IF EXISTS idempotency_keys');
  }
}

export const orderMigrations = [CreateOrders1795750000301, CreateIdempotencyKeys1795750000302];
