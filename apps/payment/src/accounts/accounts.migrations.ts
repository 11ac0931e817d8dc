import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Accounts and the per-order movements of their money. "Never negative" is enforced twice: by
 * the conditional UPDATEs of accounts-ledger.ts, and here, so that even a bug there cannot
 * commit a negative figure. The total is capped at 2^53 − 1 so every figure reaches JavaScript
 * as an exact number (pg returns bigint as a string; accounts-ledger.ts converts it).
 */
export class CreateAccounts1795750000200 implements MigrationInterface {
  name = 'CreateAccounts1795750000200';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE IF NOT EXISTS accounts (
        customer_id      text        PRIMARY KEY CHECK (customer_id ~ '^[A-Za-z0-9._-]{1,64}$'),
        available_cents  bigint      NOT NULL CHECK (available_cents >= 0),
        frozen_cents     bigint      NOT NULL DEFAULT 0 CHECK (frozen_cents >= 0),
        spent_cents      bigint      NOT NULL DEFAULT 0 CHECK (spent_cents >= 0),
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT accounts_total_is_exact_in_js
          CHECK (available_cents + frozen_cents + spent_cents <= 9007199254740991)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS accounts');
  }
}

/**
 * One row per order, written by the Try (a saga charge or a TCC freeze) together with the
 * account change, so that Confirm, Cancel and the saga's refund settle exactly the amount the
 * Try moved, whatever their own payload says. `state` moves once, by compare-and-set:
 *   FREEZE: FROZEN → CAPTURED (confirm) | RELEASED (cancel)
 *   CHARGE: CHARGED → REFUNDED (the saga's compensation)
 */
export class CreatePaymentMovements1795750000201 implements MigrationInterface {
  name = 'CreatePaymentMovements1795750000201';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE IF NOT EXISTS payment_movements (
        order_id      bigint      PRIMARY KEY,
        customer_id   text        NOT NULL REFERENCES accounts (customer_id),
        amount_cents  bigint      NOT NULL CHECK (amount_cents >= 0),
        kind          text        NOT NULL CHECK (kind IN ('FREEZE', 'CHARGE')),
        state         text        NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT payment_movements_state_of_kind CHECK (
          (kind = 'FREEZE' AND state IN ('FROZEN', 'CAPTURED', 'RELEASED')) OR
          (kind = 'CHARGE' AND state IN ('CHARGED', 'REFUNDED')))
      )`);
    await runner.query(
      'CREATE INDEX IF NOT EXISTS payment_movements_customer ON payment_movements (customer_id)',
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS payment_movements');
  }
}

export const accountsMigrations = [
  CreateAccounts1795750000200,
  CreatePaymentMovements1795750000201,
];
