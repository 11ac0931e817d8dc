import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ensureTestDatabase, testDatabaseUrl } from './test-database.js';

/**
 * The 2PC tests' own database (never a service's), its tables dropped and migrated afresh.
 * Prepared transactions outlive connections and even restarts: a test that leaves one behind
 * holds its row locks for every later run, so `rollbackAllPrepared` runs before and after.
 */
export async function openTwoPcTestDatabase(
  database: string,
  migrations: NonNullable<DataSourceOptions['migrations']>,
  setupSql: string[],
  poolSize = 8,
): Promise<DataSource> {
  const url = await ensureTestDatabase(database);
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations,
    extra: { max: poolSize },
  });
  await dataSource.initialize();
  await rollbackAllPrepared(dataSource);
  await dataSource.query('DROP SCHEMA public CASCADE');
  await dataSource.query('CREATE SCHEMA public');
  await dataSource.runMigrations({ transaction: 'each' });
  for (const sql of setupSql) await dataSource.query(sql);
  return dataSource;
}

/** The gids prepared in this DataSource's database (pg_prepared_xacts is cluster-wide). */
export async function preparedGids(dataSource: DataSource): Promise<string[]> {
  const rows: Array<{ gid: string }> = await dataSource.query(
    'SELECT gid FROM pg_prepared_xacts WHERE database = current_database() ORDER BY gid',
  );
  return rows.map((row) => row.gid);
}

/** Rolls back every prepared transaction of the database (a test's leftovers). */
export async function rollbackAllPrepared(dataSource: DataSource): Promise<void> {
  for (const gid of await preparedGids(dataSource)) {
    await dataSource.query(`ROLLBACK PREPARED '${gid.replace(/'/g, "''")}'`);
  }
}

/** A plain connection to a tests' database, outside any pool: a second process, say. */
export async function rawClient(database: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: testDatabaseUrl(database) });
  await client.connect();
  return client;
}

/**
 * The gids of the prepared transactions (held between the phases) that name one of `orderIds`,
 * in any database: pg_prepared_xacts is cluster-wide and open to every role, so the tests' role
 * sees the participants' too. A terminal 2PC order must have none left.
 */
export async function preparedTransactionsOf(orderIds: Iterable<string>): Promise<string[]> {
  const ids = [...orderIds];
  const client = new pg.Client({ connectionString: testDatabaseUrl('postgres') });
  await client.connect();
  try {
    const { rows } = await client.query<{ gid: string }>('SELECT gid FROM pg_prepared_xacts');
    return rows.map((r) => r.gid).filter((gid) => ids.some((id) => gid.includes(id)));
  } finally {
    await client.end();
  }
}
