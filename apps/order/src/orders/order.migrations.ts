import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { RetentionRule } from '@app/dist-core/retention';

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

/**
 * Keys per customer (CONTRACT.md): the same key from two customers names two orders, so one
 * customer cannot learn of, or collide with, another's order by guessing its key. Rows written
 * before this migration have no customer (''): no request matches them any more, and the purge
 * deletes them once past the retention. The created_at index serves that purge.
 */
export class IdempotencyKeysPerCustomer1796100000300 implements MigrationInterface {
  name = 'IdempotencyKeysPerCustomer1796100000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      "ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS customer_id text NOT NULL DEFAULT ''",
    );
    await queryRunner.query('ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey');
    await queryRunner.query('ALTER TABLE idempotency_keys ADD PRIMARY KEY (customer_id, key)');
    await queryRunner.query(
      'CREATE INDEX IF NOT EXISTS idempotency_keys_created_at_idx ON idempotency_keys (created_at)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX IF EXISTS idempotency_keys_created_at_idx');
    await queryRunner.query("DELETE FROM idempotency_keys WHERE customer_id <> ''");
    await queryRunner.query('ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey');
    await queryRunner.query('ALTER TABLE idempotency_keys ADD PRIMARY KEY (key)');
    await queryRunner.query('ALTER TABLE idempotency_keys DROP COLUMN customer_id');
  }
}

/** Two-phase commit, the third strategy (issue 16): the column's check takes '2pc' too. */
export class TwoPhaseCommitStrategy1796200000300 implements MigrationInterface {
  name = 'TwoPhaseCommitStrategy1796200000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_strategy_check,
        ADD CONSTRAINT orders_strategy_check CHECK (strategy IN ('saga', 'tcc', '2pc'))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_strategy_check,
        ADD CONSTRAINT orders_strategy_check CHECK (strategy IN ('saga', 'tcc')) NOT VALID`);
  }
}

export const orderMigrations = [
  CreateOrders1795750000301,
  CreateIdempotencyKeys1795750000302,
  IdempotencyKeysPerCustomer1796100000300,
  TwoPhaseCommitStrategy1796200000300,
];

/**
 * Keys past RETENTION_HOURS (at least 24 h, the keys' life: config/defaults.ts) are purged: an
 * expired key names nothing any more, and its row would only be taken over by a reuse.
 */
export const idempotencyKeyRetention: RetentionRule = {
  table: 'idempotency_keys',
  deleteBatchSql: `
    DELETE FROM idempotency_keys WHERE (customer_id, key) IN (
      SELECT customer_id, key FROM idempotency_keys WHERE created_at < $1
      LIMIT $2 FOR UPDATE SKIP LOCKED)`,
};
