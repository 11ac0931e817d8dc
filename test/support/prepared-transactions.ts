import pg from 'pg';
import { testDatabaseUrl } from './test-database.js';

/**
 * The gids of the prepared transactions (two-phase commit's phase one, held between the phases)
 * that name one of `orderIds`. pg_prepared_xacts is cluster-wide and open to every role, so the
 * tests' role sees the participants' too. A terminal 2PC order must have none left.
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
