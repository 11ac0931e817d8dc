// Replicas starting together against an empty database: three payment services at once, each
// with PAYMENT_DB_URL naming a database created for this run. All three become ready, and each
// migration is recorded once: one instance migrated under the advisory lock while the others
// waited (bootstrap/postgres-databases.ts), instead of all three running the same migrations.
// The services rarely start within the same few milliseconds, so the race is also forced: three
// PostgresDatabases open one empty database at the same moment with a migration that takes half
// a second; without the lock they collide (concurrent CREATE TABLE fails for all but one, which
// start-up then retries) or run it twice.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { PostgresDatabases } from '@app/dist-core/bootstrap';
import pg from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { runSuffix } from '../support/kafka.js';
import { startService, TEST_PORTS, type RunningService } from '../support/services.js';
import { ensureTestDatabase } from '../support/test-database.js';

const DATABASE = `payment_migrations_${runSuffix()}`;
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

describe('three instances migrating one empty database at once', () => {
  let url: string;
  let services: RunningService[] = [];

  beforeAll(async () => {
    url = await ensureTestDatabase(DATABASE);
    // Ports beside the usual test ports, so the suites' own payment service is not in the way.
    services = [10, 11, 12].map((offset) =>
      startService('payment', {
        PAYMENT_DB_URL: url,
        PAYMENT_PORT: String(TEST_PORTS.order + offset),
      }),
    );
  });

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()));
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.end();
  }, 60_000);

  it('makes all three ready with every migration applied once', async () => {
    await Promise.all(services.map((service) => service.waitForHealth(200, 90_000)));

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string; runs: string }>(
        'SELECT name, count(*) AS runs FROM migrations GROUP BY name ORDER BY name',
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((row) => row.runs !== '1')).toEqual([]);
      // The tables of each migration exist: the outbox, the inbox and the service's own.
      const { rows: tables } = await client.query<{ tablename: string }>(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
      );
      expect(tables.map((t) => t.tablename)).toEqual(
        expect.arrayContaining(['migrations', 'outbox', 'inbox']),
      );
    } finally {
      await client.end();
    }
    // No instance failed a migration and retried: each either ran them or waited for the lock.
    for (const service of services) {
      expect(service.output.join('')).not.toMatch(
        /already exists|duplicate key|Waiting for postgres/i,
      );
    }
  }, 120_000);
});

/** Takes long enough that three openers started together would all find it pending. */
class SlowMigration1700000000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE IF NOT EXISTS slow_migration_runs (at timestamptz NOT NULL)');
    await runner.query('INSERT INTO slow_migration_runs VALUES (now())');
    await runner.query('SELECT pg_sleep(0.5)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE slow_migration_runs');
  }
}

describe('three PostgresDatabases opening one empty database at the same moment', () => {
  const database = `migration_race_${runSuffix()}`;

  afterAll(async () => {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it('runs each migration once, with no opener failing and retrying', async () => {
    const url = await ensureTestDatabase(database);
    // A failed attempt is retried by start-up (wait-for.ts), which warns: capture the warnings.
    const warnings: string[] = [];
    Logger.overrideLogger({
      log: () => undefined,
      error: (message: unknown) => warnings.push(String(message)),
      warn: (message: unknown) => warnings.push(String(message)),
    });
    const openers = [1, 2, 3].map(
      () =>
        new PostgresDatabases([{ name: 'race', url, migrations: [SlowMigration1700000000000] }], {
          poolSize: 2,
          startupTimeoutMs: 30_000,
        }),
    );
    try {
      await Promise.all(openers.map((databases) => databases.initialize()));
      const source = openers[0].get('race');
      const [{ runs }] = (await source.query(
        'SELECT count(*)::int AS runs FROM slow_migration_runs',
      )) as {
        runs: number;
      }[];
      expect(runs).toBe(1);
      const recorded = (await source.query(
        'SELECT name, count(*)::int AS times FROM migrations GROUP BY name HAVING count(*) > 1',
      )) as unknown[];
      expect(recorded).toEqual([]);
      expect(warnings).toEqual([]);
    } finally {
      Logger.overrideLogger(false);
      await Promise.all(openers.map((databases) => databases.destroy()));
    }
  }, 60_000);
});
