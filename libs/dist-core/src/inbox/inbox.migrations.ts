import type { MigrationInterface, QueryRunner } from 'typeorm';

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
