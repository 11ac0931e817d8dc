import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The participant barrier's marker rows (see tcc-barrier.ts). The primary key IS the barrier:
 * each (gid, branch, op) can be inserted once. Rows are kept: a marker deleted too early would
 * let a very late Try through. Purging rows of long-finished transactions is an operator's job.
 */
export class TccBarrier1795740000400 implements MigrationInterface {
  name = 'TccBarrier1795740000400';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE IF NOT EXISTS tcc_barrier (
        gid         text        NOT NULL,
        branch      text        NOT NULL,
        op          text        NOT NULL CHECK (op IN ('try', 'confirm', 'cancel')),
        written_by  text        NOT NULL CHECK (written_by IN ('try', 'confirm', 'cancel')),
        try_result  jsonb,
        created_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (gid, branch, op)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS tcc_barrier');
  }
}

/**
 * The coordinator's global transaction log. Branch progress and history are jsonb inside the
 * row, so one compare-and-set on (gid, status, version) replaces the whole state at once.
 */
export class TccTransactions1795740000500 implements MigrationInterface {
  name = 'TccTransactions1795740000500';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE IF NOT EXISTS tcc_transactions (
        gid              text        PRIMARY KEY,
        kind             text        NOT NULL,
        status           text        NOT NULL CHECK (status IN
                           ('TRYING', 'CONFIRMING', 'CANCELLING', 'CONFIRMED', 'CANCELLED')),
        input            jsonb       NOT NULL,
        results          jsonb       NOT NULL,
        branches         jsonb       NOT NULL,
        history          jsonb       NOT NULL,
        reason           text,
        attempts         integer     NOT NULL DEFAULT 0,
        deadline         timestamptz NOT NULL,
        next_attempt_at  timestamptz,
        version          bigint      NOT NULL DEFAULT 0,
        lease_owner      text,
        lease_until      timestamptz,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now()
      )`);
    // The poller's scan: only unfinished transactions have a next attempt.
    await runner.query(`
      CREATE INDEX IF NOT EXISTS tcc_transactions_due
        ON tcc_transactions (kind, next_attempt_at) WHERE next_attempt_at IS NOT NULL`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS tcc_transactions');
  }
}

/**
 * The trace a transaction began in (the W3C traceparent of the request that placed it), so that
 * the work a recovery loop does on it later, in a trace of its own, can link back to it.
 */
export class AddTccTraceparent1796000000200 implements MigrationInterface {
  name = 'AddTccTraceparent1796000000200';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE tcc_transactions ADD COLUMN IF NOT EXISTS traceparent text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE tcc_transactions DROP COLUMN IF EXISTS traceparent');
  }
}

/** Add to a participant's DataSource (payment, inventory). */
export const tccBarrierMigrations = [TccBarrier1795740000400];

/** Add to the coordinator's DataSource (each order shard), beside the outbox's. */
export const tccCoordinatorMigrations = [
  TccTransactions1795740000500,
  AddTccTraceparent1796000000200,
];
