import { Logger } from '@nestjs/common';
import type { Producer } from 'kafkajs';
import type {
  DataSource,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
  TransactionStartEvent,
} from 'typeorm';
import { describeError } from '../kafka/dead-letter.js';
import { withPublishSpans } from '../kafka/kafka-spans.js';
import { MARK_SENT_SQL, toTopicMessages, type UnsentRow } from './unsent-row.js';

export interface AfterCommitPublisherOptions {
  /**
   * How long the relay leaves a row to this publisher before taking it itself (default 5 s):
   * the time a publish may take before a second copy goes out. It is also how late a row is
   * published when its process died between commit and publish.
   */
  relayDelayMs?: number;
  /**
   * How long published rows wait to be marked sent, so that one UPDATE marks the rows of
   * several publishes (default 100 ms; 0 marks after each publish). Far below `relayDelayMs`:
   * a row is re-sent by the relay only if it stays unmarked that long.
   */
  markSentAfterMs?: number;
}

/** Rows of one committed transaction, waiting for the next publish. */
interface CommittedRows {
  rows: UnsentRow[];
  committedAt: number;
}

/** Where a transaction keeps the rows it enqueued for publishing after its commit. */
const PENDING = Symbol('outbox rows to publish after commit');
/** How many rows were pending when each open level (transaction, then savepoints) began. */
const LEVELS = Symbol('pending rows at each open savepoint');
type RunnerData = { [PENDING]?: UnsentRow[]; [LEVELS]?: number[] };

/**
 * The outbox's fast path: the rows a transaction enqueued are published by the same process
 * as soon as that transaction commits, and then marked sent: one UPDATE for the rows of every
 * publish of the last `markSentAfterMs`. The relay is
 * still what guarantees delivery — it takes any such row still unsent `relayDelayMs` after the
 * commit (the process died, Kafka refused the send, the UPDATE failed) — but it no longer has
 * to be woken, claim the rows and commit on every hop: one statement per publish instead of
 * four, and a hop no longer waits for a NOTIFY round trip.
 *
 * What it keeps from the relay:
 * - At least once, never a message whose row did not commit: rows are handed over only by
 *   TypeORM's after-commit event of the outermost transaction; a rollback drops from this path
 *   the rows enqueued since the level rolled back began: the whole transaction's, or those of a
 *   savepoint (a nested `transaction()`, as a batch of messages runs each message's; or one
 *   set by hand, with `outboxSavepoint` and `leaveToRelay`).
 * - Per-key order: `Outbox.enqueue` sends a row this way only if its key has no older unsent
 *   row (in the same statement as the insert); otherwise the row is the relay's at once, and the
 *   relay publishes it after the older one. Rows are published one batch at a time per
 *   database, in commit order, so two rows handed over in order leave in order.
 * - Copies are possible (a publish slower than `relayDelayMs`, a crash before the UPDATE); the
 *   consumers' inbox drops them, as it drops the relay's.
 *
 * Attach it to each DataSource whose transactions enqueue; `Outbox.enqueue` asks `of()`.
 */
export class AfterCommitPublisher implements EntitySubscriberInterface {
  private static readonly attached = new WeakMap<DataSource, AfterCommitPublisher>();

  /** The publisher attached to this DataSource, if any. */
  static of(dataSource: DataSource): AfterCommitPublisher | undefined {
    return AfterCommitPublisher.attached.get(dataSource);
  }

  /**
   * The rows `queryRunner`'s transaction has enqueued for this path so far; `Outbox.enqueue`
   * adds to it.
   */
  static pendingIn(queryRunner: QueryRunner): UnsentRow[] {
    const data = queryRunner.data as RunnerData;
    return (data[PENDING] ??= []);
  }

  readonly relayDelayMs: number;
  private readonly markSentAfterMs: number;
  /** Each attached DataSource's database: itself, or the pool it shares the database with. */
  private readonly databases = new Map<DataSource, DataSource>();
  private readonly log = new Logger(AfterCommitPublisher.name);
  /** Committed rows waiting for the next publish, per database, in commit order. */
  private readonly queued = new Map<DataSource, CommittedRows[]>();
  /** The publish loop of each database, while it has rows. */
  private readonly publishing = new Map<DataSource, Promise<void>>();
  /** Rows the broker acknowledged and no UPDATE has marked sent yet, per database, by key. */
  private readonly unmarked = new Map<DataSource, Map<string, Set<string>>>();
  /** The timer of each database's next mark-sent UPDATE. */
  private readonly marking = new Map<DataSource, NodeJS.Timeout>();

  constructor(
    private readonly producer: Pick<Producer, 'sendBatch'>,
    options: AfterCommitPublisherOptions = {},
  ) {
    this.relayDelayMs = options.relayDelayMs ?? 5000;
    this.markSentAfterMs = options.markSentAfterMs ?? 100;
  }

  /**
   * Ids of `key`'s rows that this process has published but not yet marked sent. Published is
   * what the per-key rule asks of an older row, so `Outbox.enqueue` need not treat them as
   * unsent while their UPDATE waits for company.
   */
  publishedUnmarked(dataSource: DataSource, key: string): string[] {
    const database = this.databases.get(dataSource) ?? dataSource;
    return [...(this.unmarked.get(database)?.get(key) ?? [])];
  }

  /**
   * `sameDatabaseAs`: `dataSource` is a second pool on a database already attached (a 2PC
   * participant's decisions have connections of their own). Its rows then join that database's
   * queue and per-key bookkeeping: otherwise a row committed on it would find the other pool's
   * published-but-unmarked row of its key "older and unsent" and wait for the relay's next poll.
   */
  attach(dataSource: DataSource, sameDatabaseAs?: DataSource): void {
    if (AfterCommitPublisher.attached.has(dataSource)) return;
    AfterCommitPublisher.attached.set(dataSource, this);
    this.databases.set(
      dataSource,
      (sameDatabaseAs && this.databases.get(sameDatabaseAs)) ?? dataSource,
    );
    // TypeORM's broadcaster reads this array at each event.
    dataSource.subscribers.push(this);
  }

  /** Nest: before the producer and the pools close. */
  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  /** Publishes what is queued, then stops taking rows (they stay for the relay). */
  async stop(): Promise<void> {
    for (const dataSource of this.databases.keys()) {
      AfterCommitPublisher.attached.delete(dataSource);
      const index = dataSource.subscribers.indexOf(this);
      if (index >= 0) dataSource.subscribers.splice(index, 1);
    }
    this.databases.clear();
    await Promise.all(this.publishing.values());
    await Promise.all([...this.marking.keys()].map((dataSource) => this.markNow(dataSource)));
  }

  afterTransactionStart({ queryRunner }: TransactionStartEvent): void {
    const data = queryRunner.data as RunnerData;
    (data[LEVELS] ??= []).push(data[PENDING]?.length ?? 0);
  }

  afterTransactionCommit({ dataSource: pool, queryRunner }: TransactionCommitEvent): void {
    (queryRunner.data as RunnerData)[LEVELS]?.pop();
    // A nested transaction's commit only releases a savepoint: its rows are not committed yet.
    if (queryRunner.isTransactionActive) return;
    const rows = takePending(queryRunner);
    const dataSource = this.databases.get(pool);
    if (rows.length === 0 || !dataSource) return;
    const committed = { rows, committedAt: Date.now() };
    const queue = this.queued.get(dataSource);
    if (queue) queue.push(committed);
    else this.queued.set(dataSource, [committed]);
    // Not awaited: the committing caller (a request, a consumer) does not wait for Kafka.
    if (!this.publishing.has(dataSource)) {
      this.publishing.set(dataSource, this.publishQueued(dataSource));
    }
  }

  afterTransactionRollback({ queryRunner }: TransactionRollbackEvent): void {
    // The whole transaction (level 0: every row), or a savepoint TypeORM nested: the rows
    // enqueued before it began are still part of the transaction and stay on this path.
    const since = (queryRunner.data as RunnerData)[LEVELS]?.pop() ?? 0;
    leaveToRelay(queryRunner, queryRunner.isTransactionActive ? since : 0);
  }

  /** One batch at a time, so rows leave in commit order; rows queued meanwhile form the next. */
  private async publishQueued(dataSource: DataSource): Promise<void> {
    // Let the commits of this turn of the event loop join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queued.has(dataSource)) {
      const rows = this.take(dataSource);
      if (rows.length > 0) await this.publish(dataSource, rows);
    }
    // In the same synchronous step as the check above: a commit never finds a loop that is ending.
    this.publishing.delete(dataSource);
  }

  /**
   * What is queued for this database, less the rows the relay may already be publishing: those
   * that waited past `relayDelayMs` (a send that hung while Kafka was away) are the relay's now.
   */
  private take(dataSource: DataSource): UnsentRow[] {
    const queue = this.queued.get(dataSource) ?? [];
    this.queued.delete(dataSource);
    const relaysFrom = Date.now() - this.relayDelayMs;
    return queue.filter((c) => c.committedAt > relaysFrom).flatMap((c) => c.rows);
  }

  private async publish(dataSource: DataSource, rows: UnsentRow[]): Promise<void> {
    try {
      await withPublishSpans(rows, () =>
        this.producer.sendBatch({ acks: -1, topicMessages: toTopicMessages(rows) }),
      );
    } catch (error) {
      this.log.warn(`Publishing after commit failed, the relay will: ${describeError(error)}`);
      return;
    }
    let byKey = this.unmarked.get(dataSource);
    if (!byKey) this.unmarked.set(dataSource, (byKey = new Map()));
    for (const row of rows) {
      const ids = byKey.get(row.key);
      if (ids) ids.add(row.id);
      else byKey.set(row.key, new Set([row.id]));
    }
    if (this.markSentAfterMs === 0) return this.markNow(dataSource);
    if (!this.marking.has(dataSource)) {
      const timer = setTimeout(() => void this.markNow(dataSource), this.markSentAfterMs);
      this.marking.set(dataSource, timer.unref());
    }
  }

  /** One UPDATE for every row published on this database since the last one. */
  private async markNow(dataSource: DataSource): Promise<void> {
    clearTimeout(this.marking.get(dataSource));
    this.marking.delete(dataSource);
    const byKey = this.unmarked.get(dataSource);
    if (!byKey || byKey.size === 0) return;
    const taken = [...byKey].map(([key, set]) => [key, [...set]] as const);
    const ids = taken.flatMap(([, keyIds]) => keyIds);
    try {
      await dataSource.query(MARK_SENT_SQL, [ids]);
    } catch (error) {
      // Published but not marked: the relay sends them again; the inbox drops the copies.
      this.log.warn(`Marking published rows sent failed: ${describeError(error)}`);
    } finally {
      // Marked, or the relay's from now on: either way no longer ours to vouch for.
      for (const [key, keyIds] of taken) {
        const set = byKey.get(key);
        for (const id of keyIds) set?.delete(id);
        if (set?.size === 0) byKey.delete(key);
      }
    }
  }
}

/** Where a savepoint set by hand begins in the transaction's after-commit rows. */
export function outboxSavepoint(queryRunner: QueryRunner): number {
  return (queryRunner.data as RunnerData)[PENDING]?.length ?? 0;
}

/**
 * Hands the rows this transaction enqueued since `since` (an `outboxSavepoint`; default: all)
 * to the relay instead: call it after rolling back to a savepoint by hand, since they no
 * longer exist. The relay publishes any that did commit, `relayDelayMs` later.
 */
export function leaveToRelay(queryRunner: QueryRunner, since = 0): void {
  const pending = (queryRunner.data as RunnerData)[PENDING];
  if (pending && since > 0) pending.splice(since);
  else takePending(queryRunner);
}

function takePending(queryRunner: QueryRunner): UnsentRow[] {
  const data = queryRunner.data as RunnerData;
  const rows = data[PENDING] ?? [];
  delete data[PENDING];
  return rows;
}
