import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { RetentionRule } from '../retention/index.js';

/**
 * The participant barrier's marker rows (see tcc-barrier.ts). The primary key IS the barrier:
 * each (gid, branch, op) can be inserted once. Rows are purged only long after their branch
 * ended (tccBarrierRetention): a marker deleted too early would let a very late Try through.
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

/** The purge's scan: a branch's try row is its oldest (every operation writes it first). */
export class TccBarrierCreatedAt1796100000400 implements MigrationInterface {
  name = 'TccBarrierCreatedAt1796100000400';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE INDEX IF NOT EXISTS tcc_barrier_try_created_at_idx
         ON tcc_barrier (created_at) WHERE op = 'try'`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX IF EXISTS tcc_barrier_try_created_at_idx');
  }
}

/**
 * A branch's barrier rows go together, once the newest of them is older than RETENTION_HOURS
 * (7 days by default); a branch is never left half-purged.
 *
 * Why they must outlive any delay of a message (anti-hanging): the rows are the only memory that
 * a branch was cancelled or settled. If they are gone when a late Try of that branch arrives —
 * a copy re-sent by the coordinator, redelivered after a consumer crash, replayed from the
 * dead-letter topic — its insert no longer conflicts, the Try runs, and it reserves stock or
 * freezes money that nothing will ever release: the coordinator finished long ago. A late
 * Cancel or Confirm after the purge is harmless by contrast (a null compensation; a refusal).
 *
 * Why 7 days is safe: every copy of a command leaves the coordinator within its flow's life
 * (seconds: ORDER_FLOW_TIMEOUT_MS plus a few step timeouts of re-sends), and the barrier rows
 * are written after the command was sent. A copy days later can only come from Kafka itself —
 * a consumer group stopped for days before committing past it, an operator's replay from the
 * dead-letter topic — and Kafka drops a topic's messages after 7 days by default. A deployment
 * that keeps topics longer, or replays older dead letters, must raise RETENTION_HOURS with them.
 */
export const tccBarrierRetention: RetentionRule = {
  table: 'tcc_barrier',
  deleteBatchSql: `
    WITH old AS (
      SELECT gid, branch FROM tcc_barrier WHERE op = 'try' AND created_at < $1 LIMIT $2)
    DELETE FROM tcc_barrier b USING old
    WHERE b.gid = old.gid AND b.branch = old.branch
      AND NOT EXISTS (SELECT 1 FROM tcc_barrier newer
                      WHERE newer.gid = old.gid AND newer.branch = old.branch
                        AND newer.created_at >= $1)`,
};

/** Add to a participant's DataSource (payment, inventory). */
export const tccBarrierMigrations = [TccBarrier1795740000400, TccBarrierCreatedAt1796100000400];

/** Add to the coordinator's DataSource (each order shard), beside the outbox's. */
export const tccCoordinatorMigrations = [
  TccTransactions1795740000500,
  AddTccTraceparent1796000000200,
];
