import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'test_tcc';

/**
 * Opens the TCC tests' own database (never a service's), creating it if absent, and runs the
 * given migrations. Both TCC test files may start at once in separate Jest workers, so creation
 * and migrations run under one advisory lock.
 */
export async function openTccTestDatabase(
  migrations: NonNullable<DataSourceOptions['migrations']>,
  poolSize: number,
  setupSql: string[] = [],
): Promise<DataSource> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`SELECT pg_advisory_lock(hashtext('${DATABASE}'))`);
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE} OWNER app`);
    const dataSource = new DataSource({
      type: 'postgres',
      url: `postgres://app:app@127.0.0.1:5432/${DATABASE}`,
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
