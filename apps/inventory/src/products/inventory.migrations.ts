import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Products with their price and stock. Stock lives in three buckets whose sum only restocks
 * change: a reservation moves units available → reserved, a sale reserved → sold, a release
 * reserved → available. The CHECKs are the last line of "never negative": the conditional
 * UPDATEs (stock-ledger.ts) never reach them, so a violation is a bug that aborts the change.
 */
export class CreateProducts1795750000100 implements MigrationInterface {
  name = 'CreateProducts1795750000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE IF NOT EXISTS products (
        sku          text        PRIMARY KEY CHECK (sku ~ '^[A-Za-z0-9._-]{1,64}$'),
        name         text        NOT NULL,
        price_cents  bigint      NOT NULL CHECK (price_cents >= 0),
        available    bigint      NOT NULL CHECK (available >= 0),
        reserved     bigint      NOT NULL DEFAULT 0 CHECK (reserved >= 0),
        sold         bigint      NOT NULL DEFAULT 0 CHECK (sold >= 0),
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        -- Figures travel as JSON numbers: keep their sum exact in a double.
        CHECK (available + reserved + sold <= 9007199254740991)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS products');
  }
}

/**
 * One row per (order, sku) an order reserved, with the unit price it was reserved at. `status`
 * records where the units went; the barrier already lets confirm or release run once per order,
 * and the status makes each row move at most once even so.
 */
export class CreateReservations1795750000101 implements MigrationInterface {
  name = 'CreateReservations1795750000101';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE IF NOT EXISTS reservations (
        order_id          bigint      NOT NULL,
        sku               text        NOT NULL REFERENCES products (sku),
        quantity          integer     NOT NULL CHECK (quantity > 0),
        unit_price_cents  bigint      NOT NULL CHECK (unit_price_cents >= 0),
        status            text        NOT NULL DEFAULT 'RESERVED'
                            CHECK (status IN ('RESERVED', 'SOLD', 'RELEASED')),
        created_at        timestamptz NOT NULL DEFAULT now(),
        settled_at        timestamptz,
        PRIMARY KEY (order_id, sku)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS reservations');
  }
}

export const inventoryMigrations = [CreateProducts1795750000100, CreateReservations1795750000101];
