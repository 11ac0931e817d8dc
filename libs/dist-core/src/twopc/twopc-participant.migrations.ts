import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { RetentionRule } from '../retention/index.js';

/**
 * A two-phase commit participant's two tables (prepared-transaction-participant.ts).
 *
 * `twopc_branches`: one row per (order, participant) branch, written in an ordinary local
 * transaction with the inbox row and the reply. PREPARED = voted yes (the vote is `vote`, the
 * prepared transaction holds the change); COMMITTED = the commit decision was applied; ABORTED =
 * voted no, or rolled back — also a tombstone written by a rollback that arrived before its
 * prepare, so the late prepare is refused. `command` is what the branch was asked (lines, or
 * customer and amount): a decision naming anything else is dead-lettered.
 *
 * `twopc_committed`: the marker row each prepared transaction writes with its change. It becomes
 * visible only if that transaction commits, so after a crash between COMMIT PREPARED and the
 * branch row's update, "no prepared transaction left and a marker" means committed, "neither"
 * means rolled back.
 */
export class TwoPcParticipant1796300000100 implements MigrationInterface {
  name = 'TwoPcParticipant1796300000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE IF NOT EXISTS twopc_branches (
        gid         text        PRIMARY KEY,
        order_id    bigint      NOT NULL,
        branch      text        NOT NULL,
        state       text        NOT NULL CHECK (state IN ('PREPARED', 'COMMITTED', 'ABORTED')),
        command     jsonb       NOT NULL,
        vote        jsonb,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TABLE IF NOT EXISTS twopc_committed (
        gid         text        PRIMARY KEY,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    // The purge's scans: only settled branches, by age.
    await runner.query(`
      CREATE INDEX IF NOT EXISTS twopc_branches_settled_idx
        ON twopc_branches (updated_at) WHERE state <> 'PREPARED'`);
    await runner.query(
      'CREATE INDEX IF NOT EXISTS twopc_committed_created_at_idx ON twopc_committed (created_at)',
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS twopc_committed');
    await runner.query('DROP TABLE IF EXISTS twopc_branches');
  }
}

/**
 * Settled branches go after RETENTION_HOURS, like the TCC barrier's rows and for the same reason
 * (tcc.migrations.ts): an ABORTED row is what refuses a prepare arriving after its rollback, so
 * it must outlive any copy of that prepare Kafka may still deliver. A PREPARED branch is never
 * purged: it awaits its decision.
 */
export const twoPcBranchesRetention: RetentionRule = {
  table: 'twopc_branches',
  deleteBatchSql: `
    DELETE FROM twopc_branches WHERE gid IN (
      SELECT gid FROM twopc_branches WHERE state <> 'PREPARED' AND updated_at < $1
      LIMIT $2 FOR UPDATE SKIP LOCKED)`,
};

/**
 * A marker is read only while its branch is PREPARED (a decision checking what a crash left),
 * and its branch row leaves PREPARED within the flow's life: past RETENTION_HOURS it answers
 * nothing. One whose branch is still PREPARED is kept.
 */
export const twoPcCommittedRetention: RetentionRule = {
  table: 'twopc_committed',
  deleteBatchSql: `
    DELETE FROM twopc_committed WHERE gid IN (
      SELECT c.gid FROM twopc_committed c
      WHERE c.created_at < $1
        AND NOT EXISTS (SELECT 1 FROM twopc_branches b
                        WHERE b.gid = c.gid AND b.state = 'PREPARED')
      LIMIT $2 FOR UPDATE SKIP LOCKED)`,
};

/** Add to a 2PC participant's DataSource (payment, inventory). */
export const twoPcParticipantMigrations = [TwoPcParticipant1796300000100];

export const twoPcParticipantRetention = [twoPcBranchesRetention, twoPcCommittedRetention];
