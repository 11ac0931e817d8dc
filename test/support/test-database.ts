import pg from 'pg';
import { requireLocalSecret } from '@app/dist-core/config';

/**
 * The test suites' own databases (test_saga, test_messaging, ...) live on the server infra:up
 * provisions (PG_PORT moves it, as it moves scripts/infra/postgres.sh) and belong to the role
 * `tests`, which that script creates: it may create databases, and owns only the tests' ones.
 * The services' roles and databases are never used for them.
 */
const TESTS_ROLE = 'tests';
const PG_PORT = Number(process.env.PG_PORT ?? 5432);

/** The URL of one of the tests' databases, as the tests' role with its generated password. */
export function testDatabaseUrl(database: string): string {
  const password = requireLocalSecret(`postgres-${TESTS_ROLE}`);
  return `postgres://${TESTS_ROLE}:${encodeURIComponent(password)}@127.0.0.1:${PG_PORT}/${database}`;
}

/**
 * Creates a test suite's own database (never a service's) if it does not exist yet, open to
 * the tests' role only, like the services' databases to theirs. Safe when several test files
 * race to create it.
 */
export async function ensureTestDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: testDatabaseUrl('postgres') });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.query(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC`);
    }
  } catch (error) {
    // Another test file created it between our check and our CREATE.
    const code = (error as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw error;
  } finally {
    await admin.end();
  }
  return testDatabaseUrl(name);
}

/** An empty schema of a suite's own database (dropped and recreated), so test files never share rows. */
export async function freshTestSchema(database: string, schema: string): Promise<void> {
  const url = await ensureTestDatabase(database);
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  try {
    await setup.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await setup.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await setup.end();
  }
}
