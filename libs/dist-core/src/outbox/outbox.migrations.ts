import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { RetentionRule } from '../retention/index.js';

export class CreateOutbox1795740000100 implements MigrationInterface {
  name = 'CreateOutbox1795740000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    // `id` is the envelope's id, `key` the Kafka key (the correlation id). Rows are kept a
    // while after `sent_at` for inspection, then purged (outboxRetention).
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS outbox (
        id bigint PRIMARY KEY,
        topic text NOT NULL,
        key text NOT NULL,
        type text NOT NULL,
        envelope jsonb NOT NULL,
        headers jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      )`);
    // The relay's two questions: the oldest unsent rows, and "has this key an older unsent
    // row?". Partial indexes stay as small as the backlog, however many sent rows are kept.
    await queryRunner.query(
      'CREATE INDEX IF NOT EXISTS outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL',
    );
    await queryRunner.query(
      'CREATE INDEX IF NOT EXISTS outbox_unsent_key_idx ON outbox (key, id) WHERE sent_at IS NULL',
    );
    await queryRunner.query(
      'CREATE INDEX IF NOT EXISTS outbox_sent_at_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE IF EXISTS outbox');
  }
}

/**
 * When the relay may take a row: at once for a row only the relay will publish, a few seconds
 * later for one the enqueuing process publishes right after its commit (`AfterCommitPublisher`),
 * so the relay picks that one up only if the process died or Kafka refused it.
 */
export class AddOutboxRelayAfter1796000000200 implements MigrationInterface {
  name = 'AddOutboxRelayAfter1796000000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE outbox ADD COLUMN IF NOT EXISTS relay_after timestamptz NOT NULL DEFAULT now()',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE outbox DROP COLUMN IF EXISTS relay_after');
  }
}

/** Add to every DataSource whose transactions enqueue messages. */
export const outboxMigrations = [CreateOutbox1795740000100, AddOutboxRelayAfter1796000000200];

/**
 * Sent rows go an hour after they were sent, whatever RETENTION_HOURS says: once the broker has
 * acknowledged a row it protects nothing (the consumers' inbox drops copies), and it is kept
 * only for someone inspecting what was just published. Unsent rows are never purged.
 */
export const outboxRetention: RetentionRule = {
  table: 'outbox',
  keptForMs: 3_600_000,
  deleteBatchSql: `
    DELETE FROM outbox WHERE id IN (
      SELECT id FROM outbox WHERE sent_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
};
