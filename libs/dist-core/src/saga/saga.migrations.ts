import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per saga (id = the correlation id, i.e. the order id) and an append-only history.
 * Deadlines and the next retry are columns, not timers: any instance can read them after a crash.
 */
export class CreateSagaTables1795787670941 implements MigrationInterface {
  name = 'CreateSagaTables1795787670941';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS saga_instances (
        id                 bigint PRIMARY KEY,
        saga_type          text NOT NULL,
        status             text NOT NULL CHECK (status IN
                             ('RUNNING', 'COMPENSATING', 'COMPLETED', 'COMPENSATED', 'PARKED')),
        current_step       text NOT NULL,
        attempt            integer NOT NULL,
        data               jsonb NOT NULL,
        version            bigint NOT NULL,
        awaited_command_id bigint,
        step_deadline      timestamptz,
        saga_deadline      timestamptz,
        next_attempt_at    timestamptz,
        failure_reason     text,
        parked_from        text CHECK (parked_from IN ('RUNNING', 'COMPENSATING')),
        parked_reason      text,
        lease_owner        text,
        lease_until        timestamptz,
        created_at         timestamptz NOT NULL,
        updated_at         timestamptz NOT NULL
      )`);
    // The poller scans only the sagas still in flight; finished ones stay out of the index.
    await queryRunner.query(`
      CREATE INDEX IF NOT EXISTS saga_instances_active
        ON saga_instances (saga_type, id) WHERE status IN ('RUNNING', 'COMPENSATING')`);
    await queryRunner.query(`
      CREATE INDEX IF NOT EXISTS saga_instances_parked
        ON saga_instances (saga_type, updated_at) WHERE status = 'PARKED'`);
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS saga_steps (
        id         bigserial PRIMARY KEY,
        saga_id    bigint NOT NULL REFERENCES saga_instances (id) ON DELETE CASCADE,
        step       text NOT NULL,
        kind       text NOT NULL CHECK (kind IN ('action', 'compensation')),
        attempt    integer NOT NULL,
        outcome    text NOT NULL,
        reason     text,
        command_id bigint,
        at         timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS saga_steps_saga ON saga_steps (saga_id, id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS saga_steps`);
    await queryRunner.query(`DROP TABLE IF EXISTS saga_instances`);
  }
}

/**
 * The trace a saga started in (the W3C traceparent of the request that placed it), so that the
 * work a recovery loop does on it later, in a trace of its own, can link back to it.
 */
export class AddSagaTraceparent1796000000100 implements MigrationInterface {
  name = 'AddSagaTraceparent1796000000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE saga_instances ADD COLUMN IF NOT EXISTS traceparent text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE saga_instances DROP COLUMN IF EXISTS traceparent`);
  }
}

export const sagaMigrations = [CreateSagaTables1795787670941, AddSagaTraceparent1796000000100];
