import pg from 'pg';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Creates a test suite's own database (never a service's) if it does not exist yet, owned by
 * the services' role. Safe when several test files race to create it.
 */
export async function ensureTestDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE ${name} OWNER app`);
  } catch (error) {
    // Another test file created it between our check and our CREATE.
    const code = (error as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw error;
  } finally {
    await admin.end();
  }
  return `postgres://app:app@127.0.0.1:5432/${name}`;
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
