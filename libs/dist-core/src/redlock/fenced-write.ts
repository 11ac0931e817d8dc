/**
 * The check that makes a Redlock safe for a Postgres write: the database itself refuses a holder
 * whose lock has been superseded, whatever that holder believes (Kleppmann, "How to do distributed
 * locking", 2016: a process paused past its ttl wakes up still "holding" the lock).
 *
 * Pattern, inside the caller's transaction, before the protected write:
 *
 *   await client.query('BEGIN');
 *   if (!(await claimFence(client, 'account:42', lock.fence))) {
 *     await client.query('ROLLBACK');              // a newer holder has written: do nothing
 *   } else {
 *     await client.query('UPDATE accounts …');     // the protected write
 *     await client.query('COMMIT');
 *   }
 *
 * The claim is a conditional upsert that changes the fence row rather than reading it (no
 * read-then-write gap): its row lock is held to COMMIT, so fenced transactions on one resource
 * run one at a time, and a stale one that waited re-checks against the newer committed fence.
 */

/** The table of the last fence that wrote each resource. Created by the owning service's schema. */
export function lockFencesTableSql(table = 'lock_fences'): string {
  return `CREATE TABLE IF NOT EXISTS ${identifier(table)} (resource text PRIMARY KEY, fence bigint NOT NULL)`;
}

/**
 * `fence <= $2`, not `<`: the same holder may write several times under one lock (each fence
 * belongs to exactly one acquisition), while any older fence — a stale holder — changes nothing.
 */
export function claimFenceSql(table = 'lock_fences'): string {
  const name = identifier(table);
  return (
    `INSERT INTO ${name} (resource, fence) VALUES ($1, $2::bigint) ` +
    `ON CONFLICT (resource) DO UPDATE SET fence = EXCLUDED.fence WHERE ${name}.fence <= EXCLUDED.fence`
  );
}

/** What claimFence needs of a connection: pg's Client and PoolClient fit. */
export interface FenceQueryable {
  query(text: string, values: unknown[]): Promise<{ rowCount: number | null }>;
}

/**
 * Records `fence` as the resource's newest writer and returns true, or returns false (changing
 * nothing) when a holder with a larger fence has already claimed the resource. Run it in the same
 * transaction as the protected write, and skip that write on false.
 */
export async function claimFence(
  tx: FenceQueryable,
  resource: string,
  fence: bigint,
  table = 'lock_fences',
): Promise<boolean> {
  // Decimal string at the boundary: a bigint fence may exceed 2^53.
  const result = await tx.query(claimFenceSql(table), [resource, fence.toString()]);
  return result.rowCount === 1;
}

function identifier(table: string): string {
  if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/.test(table)) {
    throw new RangeError(`not a plain lower-case table name: ${table}`);
  }
  return table;
}
