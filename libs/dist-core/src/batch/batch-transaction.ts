import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

export interface BatchTransactionOptions {
  /**
   * How long a statement of the batch waits for a row lock before it fails (default 200 ms).
   * A batch holds every lock its messages took until its one COMMIT, so a message that waits
   * behind another batch (or deadlocks with one) gives up early: its savepoint rolls back and it
   * is retried on the single-order path after the batch, where no such limit applies.
   */
  lockTimeoutMs?: number;
}

/** The batch a piece of code runs inside, if any (set by `runInBatch`). */
const ambient = new AsyncLocalStorage<BatchTransaction>();

/**
 * Where message handlers open their local transactions (`handleOnce`, `BarrierParticipant`):
 * `dataSource.transaction(work)`, unless the code runs inside a batch (`runInBatch`); then
 * `work` joins the batch's transaction on that database as a SAVEPOINT. Either way `work`
 * commits or rolls back as one unit: an error rolls back to the savepoint (only this work's
 * writes and locks go) and is rethrown, as a failed transaction's would be. What differs is
 * when "committed" becomes durable: at the batch's COMMIT, which the batch's caller waits for
 * before it acknowledges anything.
 */
export function inTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  const batch = ambient.getStore();
  return batch?.isOpen ? batch.join(dataSource, work) : dataSource.transaction(work);
}

/**
 * Runs `work` with a batch open: every `inTransaction` inside it joins the batch's transaction
 * (one per database, begun on first use) instead of beginning its own. Then COMMITs each
 * database's transaction, or, if `work` throws, rolls them all back. Returns `work`'s result.
 *
 * A COMMIT that fails leaves the batch's outcome on that database unknown (rolled back, or
 * committed with the answer lost) and the others' committed: the error says so, and the
 * caller must run the batch's messages again one by one (the inbox drops what did commit).
 */
export async function runInBatch<T>(
  options: BatchTransactionOptions,
  work: () => Promise<T>,
): Promise<T> {
  const batch = new BatchTransaction(options);
  let result: T;
  try {
    result = await ambient.run(batch, work);
  } catch (error) {
    await batch.rollback();
    throw error;
  }
  await batch.commit();
  return result;
}

/** One transaction per database, shared by the messages of a batch (see `runInBatch`). */
export class BatchTransaction {
  private readonly runners = new Map<DataSource, Promise<QueryRunner>>();
  /** Databases with a joined unit of work running: one at a time per connection. */
  private readonly busy = new Set<DataSource>();
  private open = true;
  /** Set when a database's transaction can no longer be trusted: the batch will not commit. */
  private broken?: Error;
  private readonly lockTimeoutMs: number;

  constructor(options: BatchTransactionOptions = {}) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? 200;
  }

  /** False once the batch commits or rolls back: code still running then is on its own. */
  get isOpen(): boolean {
    return this.open;
  }

  /**
   * `work` as a savepoint of the batch's transaction on `dataSource`. TypeORM nests a
   * transaction started on a runner that is already in one as SAVEPOINT / RELEASE SAVEPOINT /
   * ROLLBACK TO SAVEPOINT, and the after-commit publisher follows those events (only the rows
   * a rolled-back savepoint enqueued leave its path).
   */
  async join<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    // Two units at once on one connection would interleave their savepoints; alone, each would
    // have had a connection of its own. A handler that needs that cannot run in a batch.
    if (this.busy.has(dataSource)) {
      throw new Error('A batched handler opened two transactions at once on one database');
    }
    this.busy.add(dataSource);
    try {
      const runner = await this.runnerOf(dataSource);
      try {
        return await runner.manager.transaction(work);
      } finally {
        // TypeORM swallows a failed ROLLBACK TO SAVEPOINT (a lost connection) and then counts
        // one level too many: its "commit" would only RELEASE a savepoint. Never commit then.
        if (depthOf(runner) !== 1) this.broken ??= new Error('a savepoint was not rolled back');
      }
    } finally {
      this.busy.delete(dataSource);
    }
  }

  async commit(): Promise<void> {
    this.open = false;
    let failure: unknown = this.broken;
    for (const runner of await this.begun()) {
      try {
        await end(runner, failure === undefined);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw new BatchCommitError(failure);
  }

  async rollback(): Promise<void> {
    this.open = false;
    for (const runner of await this.begun()) await end(runner, false).catch(() => undefined);
  }

  private runnerOf(dataSource: DataSource): Promise<QueryRunner> {
    let runner = this.runners.get(dataSource);
    if (!runner) {
      runner = this.begin(dataSource);
      this.runners.set(dataSource, runner);
    }
    return runner;
  }

  private async begin(dataSource: DataSource): Promise<QueryRunner> {
    const runner = dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      await runner.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(this.lockTimeoutMs))}`);
      return runner;
    } catch (error) {
      await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
      throw error;
    }
  }

  /** The runners whose BEGIN succeeded (one that failed was released by `begin`). */
  private async begun(): Promise<QueryRunner[]> {
    const settled = await Promise.allSettled(this.runners.values());
    this.runners.clear();
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }
}

/**
 * COMMIT or ROLLBACK, then the connection back to the pool — or destroyed, when its state is
 * not known to be clean: a pooled connection must never carry an open transaction.
 */
async function end(runner: QueryRunner, commit: boolean): Promise<void> {
  let unclean: Error | undefined;
  try {
    if (commit && depthOf(runner) === 1) await runner.commitTransaction();
    else if (depthOf(runner) === 1) await runner.rollbackTransaction();
    else {
      unclean = new Error('batch transaction discarded');
      await runner.query('ROLLBACK');
      if (commit) throw unclean;
    }
  } catch (error) {
    unclean ??= error as Error;
    throw error;
  } finally {
    await (runner as unknown as PostgresRunner).releasePostgresConnection(unclean);
  }
}

interface PostgresRunner {
  releasePostgresConnection(error?: Error): Promise<void>;
}

function depthOf(runner: QueryRunner): number {
  return (runner as unknown as { transactionDepth: number }).transactionDepth;
}

/** A batch's COMMIT failed: what it wrote on that database may or may not be durable. */
export class BatchCommitError extends Error {
  constructor(override readonly cause: unknown) {
    super(`A batch's COMMIT failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'BatchCommitError';
  }
}
