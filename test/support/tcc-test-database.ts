import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ensureTestDatabase, testDatabaseUrl } from './test-database.js';

const DATABASE = 'test_tcc';

/**
 * Opens the TCC tests' own database (never a service's), creating it if absent, and runs the
 * given migrations. The barrier and coordinator test files may start at once in separate Jest workers, so creation
 * and migrations run under one advisory lock.
 */
export async function openTccTestDatabase(
  migrations: NonNullable<DataSourceOptions['migrations']>,
  poolSize: number,
  setupSql: string[] = [],
): Promise<DataSource> {
  const admin = new pg.Client({ connectionString: testDatabaseUrl('postgres') });
  await admin.connect();
  try {
    await admin.query(`SELECT pg_advisory_lock(hashtext('${DATABASE}'))`);
    const url = await ensureTestDatabase(DATABASE);
    const dataSource = new DataSource({
      type: 'postgres',
      url,
      migrations,
      // Commits need not wait for the WAL flush in a throwaway test database: locking and
      // visibility, which the tests are about, are the same; the fsync wait is not.
      extra: { max: poolSize, options: '-c synchronous_commit=off' },
    });
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    for (const sql of setupSql) await dataSource.query(sql);
    return dataSource;
  } finally {
    await admin.query(`SELECT pg_advisory_unlock(hashtext('${DATABASE}'))`);
    await admin.end();
  }
}
