import { Logger } from '@nestjs/common';
import type { Producer } from 'kafkajs';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { describeError } from '../kafka/dead-letter.js';
import { withPublishSpans } from '../kafka/kafka-spans.js';
import { OutboxNotifications } from './outbox-notifications.js';
import { MARK_SENT_SQL, toTopicMessages, type UnsentRow } from './unsent-row.js';
import { WakeSignal } from './wake-signal.js';

export interface OutboxRelayOptions {
  /** Names the database in logs (`orders_0`). */
  name?: string;
  /** Rows claimed per transaction (default 200). */
  batchSize?: number;
  /** Poll even without a NOTIFY (default 500 ms): a lost notification costs this much. */
  pollIntervalMs?: number;
  /**
   * Longest pause between polls while the outbox is empty and the LISTEN connection is up
   * (default 4 s, at least `pollIntervalMs`): the pause doubles after each empty claim. A
   * commit's NOTIFY still wakes the relay at once; a (re)connected listener looks at once.
   */
  idlePollIntervalMs?: number;
  /** LISTEN for NOTIFY outbox (default true); without it the relay only polls. */
  listen?: boolean;
}

interface ClaimedRow extends UnsentRow {
  publishable: boolean;
}

/**
 * Claims the oldest unsent rows, and marks publishable only those whose key has no older
 * unsent row outside this claim.
 *
 * Why: SKIP LOCKED alone lets relay B, finding key K's row 1 locked by relay A, claim and
 * publish K's row 2 before A publishes row 1. Here B sees row 1 still unsent (A has not
 * committed) and leaves row 2 for later; rows of one key within one claim are published
 * together, in id order, in one produce request. Once A commits, row 1 was acknowledged by the
 * broker, so any later claim of row 2 publishes after it. No relay ever waits for another
 * (SKIP LOCKED), and no leader election is needed. Rows claimed but not publishable are
 * released at commit, unchanged.
 *
 * "Order" is id order among committed rows: two transactions racing to enqueue for one key
 * have no order to keep, and whichever commits first may be published first.
 *
 * A row left to its enqueuer's `AfterCommitPublisher` is claimed only once `relay_after` has
 * passed, but it counts as an older unsent row of its key from the moment it commits.
 */
const CLAIM_SQL = `
  WITH claimed AS MATERIALIZED (
    SELECT id, topic, key, envelope, headers
    FROM outbox
    WHERE sent_at IS NULL AND relay_after <= now()
    ORDER BY id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
  )
  SELECT c.id, c.topic, c.key, c.envelope::text AS envelope, c.headers,
    NOT EXISTS (
      SELECT 1 FROM outbox older
      WHERE older.key = c.key AND older.sent_at IS NULL AND older.id < c.id
        AND older.id NOT IN (SELECT id FROM claimed)
    ) AS publishable
  FROM claimed c
  ORDER BY c.id`;

/**
 * Publishes one database's outbox to Kafka: wakes on NOTIFY and polls, claims a batch in a
 * transaction, sends it, and marks it sent in the same transaction once the broker has
 * acknowledged it. At least once: a crash after the send and before the commit publishes the
 * batch again, and the consumers' inbox drops the copies. Any number of relays may run on
 * one database.
 */
export class OutboxRelay {
  private readonly log: Logger;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly idlePollIntervalMs: number;
  private readonly wakeSignal = new WakeSignal();
  private notifications?: OutboxNotifications;
  private running?: Promise<void>;
  private stopped = true;

  constructor(
    private readonly dataSource: DataSource,
    private readonly producer: Pick<Producer, 'sendBatch'>,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.log = new Logger(`OutboxRelay${options.name ? `:${options.name}` : ''}`);
    this.batchSize = options.batchSize ?? 200;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.idlePollIntervalMs = Math.max(this.pollIntervalMs, options.idlePollIntervalMs ?? 4000);
  }

  start(): void {
    if (this.running) return;
    this.stopped = false;
    if (this.options.listen ?? true) {
      this.notifications = new OutboxNotifications(
        listenConfig(this.dataSource),
        () => this.wakeSignal.wake(),
        this.log,
      );
      this.notifications.start();
    }
    this.running = this.run();
  }

  /** Finishes the batch in flight, then stops; unsent rows wait in the table for next time. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeSignal.wake();
    await this.running;
    this.running = undefined;
    await this.notifications?.stop();
    this.notifications = undefined;
  }

  private async run(): Promise<void> {
    let idlePause = this.pollIntervalMs;
    while (!this.stopped) {
      let more = false;
      let pause = this.pollIntervalMs;
      try {
        const { claimed, published } = await this.publishBatch();
        // A full batch means a backlog: go again at once. A claim blocked by another relay's
        // older rows waits, so two relays do not spin on the same key.
        more = claimed === this.batchSize && published > 0;
        // An empty outbox while we LISTEN: every row committed from now on NOTIFYs us, so the
        // poll is only a safety net and backs off (each empty poll is a transaction: BEGIN,
        // claim, COMMIT, on every database). Rows another relay holds locked and then releases
        // unsent (it failed or died) wait at most idlePollIntervalMs. Without a listener a
        // poll is all there is.
        idlePause =
          claimed === 0 && this.notifications?.listening
            ? Math.min(idlePause * 2, this.idlePollIntervalMs)
            : this.pollIntervalMs;
        pause = idlePause;
      } catch (error) {
        // Kafka or Postgres is away: the rows stay unsent, the next round tries again.
        this.log.warn(`Publishing failed: ${describeError(error)}`);
        pause = Math.max(pause, 1000);
      }
      if (!more && !this.stopped) await this.wakeSignal.wait(pause);
    }
  }

  /** One round: claim, publish, mark sent, commit. Public for tests and benchmarks. */
  async publishBatch(): Promise<{ claimed: number; published: number }> {
    return this.dataSource.transaction(async (manager) => {
      const rows: ClaimedRow[] = await manager.query(CLAIM_SQL, [this.batchSize]);
      const publishable = rows.filter((row) => row.publishable);
      if (publishable.length > 0) {
        // One produce call for the batch, acknowledged by all in-sync replicas before the
        // rows are marked sent; kafkajs keeps the array's order within each partition.
        await withPublishSpans(publishable, () =>
          this.producer.sendBatch({ acks: -1, topicMessages: toTopicMessages(publishable) }),
        );
        await manager.query(MARK_SENT_SQL, [publishable.map((row) => row.id)]);
      }
      return { claimed: rows.length, published: publishable.length };
    });
  }
}

/** The DataSource's own connection settings, for the dedicated LISTEN connection. */
function listenConfig(dataSource: DataSource): pg.ClientConfig {
  const options = dataSource.options as {
    url?: string;
    host?: string;
    port?: number;
    username?: string;
    password?: pg.ClientConfig['password'];
    database?: string;
    applicationName?: string;
  };
  return {
    connectionString: options.url,
    host: options.host,
    port: options.port,
    user: options.username,
    password: options.password,
    database: options.database,
    application_name: options.applicationName,
    connectionTimeoutMillis: 3000,
    keepAlive: true,
  };
}
