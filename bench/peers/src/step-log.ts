import type pg from 'pg';

/**
 * A participant's Try, once per order: the business statements and the order's `step_log` row
 * commit together, so a repeated call (a retry after a lost answer, a replayed step) meets the
 * row and gets the first call's answer without touching the business rows again. A Try that
 * fails for a business reason rolls its statements back and records its answer alone.
 *
 * A compensation that arrives before its Try (the Try still in flight or lost) writes the
 * Try's row first, as a refusal (`CANCELLED`): the late Try then meets it and changes nothing.
 * That is dtm's barrier (null compensation, anti-hanging) with one row instead of two.
 */
export async function tryOnce<R extends { outcome: string }>(
  pool: pg.Pool,
  orderId: string,
  step: string,
  body: (client: pg.PoolClient) => Promise<R>,
): Promise<R> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    let result: R;
    try {
      result = await body(client);
    } catch (error) {
      await client.query('ROLLBACK');
      // A duplicate of a Try in flight: its business row's unique key waited for it, then clashed.
      if ((error as { code?: string }).code === '23505')
        return await recorded(client, orderId, step);
      throw error;
    }
    if (result.outcome !== 'SUCCESS') await client.query('ROLLBACK; BEGIN');
    const inserted = await client.query(
      'INSERT INTO step_log (order_id, step, result) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [orderId, step, result],
    );
    if (inserted.rowCount === 1) {
      await client.query('COMMIT');
      return result;
    }
    await client.query('ROLLBACK');
    return await recorded(client, orderId, step);
  } finally {
    client.release();
  }
}

/**
 * In a compensation's transaction: refuses the order's Try if it has not run yet. True when it
 * had not (nothing to undo: the compensation is a null one), false when the Try's row exists.
 */
export async function refuseTry(client: pg.PoolClient, orderId: string, step: string) {
  const inserted = await client.query(
    `INSERT INTO step_log (order_id, step, result) VALUES ($1, $2, '{"outcome":"FAILURE","reason":"CANCELLED"}')
     ON CONFLICT DO NOTHING`,
    [orderId, step],
  );
  return inserted.rowCount === 1;
}

async function recorded<R>(client: pg.PoolClient, orderId: string, step: string): Promise<R> {
  const { rows } = await client.query<{ result: R }>(
    'SELECT result FROM step_log WHERE order_id = $1 AND step = $2',
    [orderId, step],
  );
  if (rows.length !== 1) throw new Error(`order ${orderId}: ${step} clashed but left no answer`);
  return rows[0].result;
}

/** BEGIN, `body`, COMMIT on one connection; ROLLBACK on any error. */
export async function inTransaction<T>(
  pool: pg.Pool,
  body: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await body(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
