import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/**
 * What one table keeps and how its old rows go. Each pattern's folder declares the rule of its
 * own table beside its migration (inbox/, outbox/, tcc/, the order service's idempotency keys),
 * because only it knows which rows still protect something.
 */
export interface RetentionRule {
  /** Names the rule in logs: the table. */
  table: string;
  /**
   * Deletes at most $2 rows older than $1 (a timestamptz) and nothing else. Run again until it
   * deletes nothing, each time in a transaction of its own: small batches keep locks and WAL
   * bursts short while the services work. Two instances purging at once take disjoint rows
   * (`FOR UPDATE SKIP LOCKED`) or delete the same ones idempotently.
   */
  deleteBatchSql: string;
  /** A fixed age instead of RETENTION_HOURS, for rows that protect nothing (sent outbox rows). */
  keptForMs?: number;
}

export interface RetentionTarget {
  name: string;
  dataSource: DataSource;
  retention: RetentionRule[];
}

export interface RetentionPurgeOptions {
  /** RETENTION_HOURS, in ms: the age past which a rule's rows go. */
  retentionMs: number;
  /** PURGE_INTERVAL_SECONDS, in ms: the pause between two purges. */
  intervalMs: number;
  /** Rows per DELETE (default 500). */
  batchSize?: number;
}

/**
 * The periodic purge of one service: every interval, each database's rules delete their rows
 * past the retention, batch after batch. Without it the inbox, the barrier and the idempotency
 * keys grow with every message and order for ever. Any number of instances may run it: the
 * deletes are idempotent, so no lock or leader is needed.
 */
export class RetentionPurge {
  private readonly log = new Logger(RetentionPurge.name);
  private readonly batchSize: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private shuttingDown = false;

  constructor(
    private readonly targets: RetentionTarget[],
    private readonly options: RetentionPurgeOptions,
  ) {
    this.batchSize = options.batchSize ?? 500;
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  /** Before the pools close: lets the batch in flight finish, starts no other. */
  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One purge of every database; how many rows each `<database>.<table>` lost. */
  async purgeOnce(): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    for (const { name, dataSource, retention } of this.targets) {
      for (const rule of retention) {
        deleted[`${name}.${rule.table}`] = await this.purgeTable(dataSource, rule);
      }
    }
    return deleted;
  }

  private schedule(): void {
    if (this.shuttingDown) return;
    this.timer = setTimeout(() => {
      this.running = this.purgeOnce()
        .then((deleted) => {
          const total = Object.values(deleted).reduce((sum, n) => sum + n, 0);
          if (total > 0) this.log.log({ msg: `Purged ${total} rows past retention`, deleted });
        })
        .catch((error: unknown) =>
          // Postgres is away: the rows wait for the next round, which tries again.
          this.log.warn(`Purge failed: ${(error as Error).message}`),
        )
        .finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async purgeTable(dataSource: DataSource, rule: RetentionRule): Promise<number> {
    const keptForMs = rule.keptForMs ?? this.options.retentionMs;
    // The cutoff from the database's clock, once per table: the rows' timestamps come from it.
    const [{ cutoff }] = (await dataSource.query(
      'SELECT now() - make_interval(secs => $1) AS cutoff',
      [keptForMs / 1000],
    )) as { cutoff: Date }[];
    let total = 0;
    while (!this.shuttingDown) {
      const [, deleted] = (await dataSource.query(rule.deleteBatchSql, [
        cutoff,
        this.batchSize,
      ])) as [unknown, number];
      total += deleted;
      if (deleted === 0) break;
    }
    return total;
  }
}
