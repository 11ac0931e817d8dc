import type { QueryRunner } from 'typeorm';

/**
 * PostgreSQL's prepared transactions, as a participant uses them. Each statement runs on a
 * connection that is NOT inside a transaction block: COMMIT PREPARED and ROLLBACK PREPARED are
 * refused inside one, and PREPARE TRANSACTION ends the block it is in.
 */

/** A gid travels into SQL as a literal (the statements take no parameters): only these characters. */
const GID = /^[A-Za-z0-9_.:-]{1,199}$/;

export function gidLiteral(gid: string): string {
  if (!GID.test(gid)) throw new Error(`Invalid prepared transaction id: ${gid}`);
  return `'${gid}'`;
}

/** Whether this database holds a prepared transaction of that gid (gids are cluster-wide). */
export async function isPrepared(runner: QueryRunner, gid: string): Promise<boolean> {
  const rows: unknown[] = await runner.query(
    'SELECT 1 FROM pg_prepared_xacts WHERE gid = $1 AND database = current_database()',
    [gid],
  );
  return rows.length === 1;
}

export async function commitPrepared(runner: QueryRunner, gid: string): Promise<void> {
  await runner.query(`COMMIT PREPARED ${gidLiteral(gid)}`);
}

export async function rollbackPrepared(runner: QueryRunner, gid: string): Promise<void> {
  await runner.query(`ROLLBACK PREPARED ${gidLiteral(gid)}`);
}

/**
 * A prepare that could not finish now and must be retried, not answered: it waited longer than
 * its lock_timeout for a row another order's prepared transaction holds (only that order's
 * decision frees it), or the server holds max_prepared_transactions already. Voting no would
 * abort an order that only had to wait; the consumer retries it (kafka-consumer.server.ts), with
 * backoff, up to its maxAttempts; after that it is dead-lettered unanswered, and the
 * coordinator's timeout rolls the order back (a tombstone refuses a replayed copy). Also thrown
 * by any operation that waited too long for another one on the same branch.
 */
export class PrepareDeferredError extends Error {
  constructor(gid: string, reason: string) {
    super(`2PC branch ${gid} deferred: ${reason}`);
    this.name = 'PrepareDeferredError';
  }
}

/** SQLSTATEs that make a prepare wait and retry (see PrepareDeferredError). */
const DEFERRING = new Map([
  ['55P03', 'a row it needs is locked (lock_timeout), most likely by a prepared transaction'],
  ['53400', 'max_prepared_transactions reached'],
  ['40P01', 'deadlock'],
]);

/** The error to throw for a failed prepare: deferred (retried) or the original fault. */
export function prepareFailure(gid: string, error: unknown): unknown {
  const code = (error as { code?: unknown; driverError?: { code?: unknown } }).code;
  const driverCode = (error as { driverError?: { code?: unknown } }).driverError?.code;
  const reason = DEFERRING.get(String(code ?? driverCode));
  return reason ? new PrepareDeferredError(gid, reason) : error;
}

/**
 * The prepared transactions of one database, for tests and operators: what an in-doubt branch
 * looks like from the server's side.
 */
export async function listPrepared(
  runner: Pick<QueryRunner, 'query'>,
): Promise<Array<{ gid: string; prepared: Date; owner: string }>> {
  return runner.query(
    `SELECT gid, prepared, owner FROM pg_prepared_xacts
     WHERE database = current_database() ORDER BY prepared`,
  );
}
