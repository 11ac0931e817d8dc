import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { RetentionRule } from '../retention/index.js';

export class CreateInbox1795740000200 implements MigrationInterface {
  name = 'CreateInbox1795740000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS inbox (
        consumer text NOT NULL,
        message_id bigint NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, message_id)
      )`);
    await queryRunner.query(
      'CREATE INDEX IF NOT EXISTS inbox_received_at_idx ON inbox (received_at)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE IF EXISTS inbox');
  }
}

/** Add to every DataSource whose transactions handle messages. */
export const inboxMigrations = [CreateInbox1795740000200];

/**
 * Inbox rows past the retention (RETENTION_HOURS, 7 days by default) are purged. A row must
 * outlive every copy of its message: the relay's re-publish after a crash (seconds), consumer
 * lag while a service is down (hours), a replay from the dead-letter topic (days at most, as
 * Kafka keeps a topic 7 days by default). A copy arriving after its row is gone is handled
 * again, and only the flows' own rules stand in its way: a reply is applied only if it answers
 * the command its flow awaits, a command only as the participant's barrier allows.
 */
export const inboxRetention: RetentionRule = {
  table: 'inbox',
  deleteBatchSql: `
    DELETE FROM inbox WHERE (consumer, message_id) IN (
      SELECT consumer, message_id FROM inbox WHERE received_at < $1
      LIMIT $2 FOR UPDATE SKIP LOCKED)`,
};
