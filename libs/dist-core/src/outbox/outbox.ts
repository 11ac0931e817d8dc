import type { EntityManager } from 'typeorm';
import type { Envelope } from '../kafka/index.js';
import { decodeEnvelope, encodeEnvelope, TRACEPARENT_HEADER } from '../kafka/envelope.js';
import { outgoingTraceparent } from '../observability/index.js';
import { AfterCommitPublisher } from './after-commit-publisher.js';
import type { IdGenerator } from './id-generator.js';
import type { UnsentRow } from './unsent-row.js';

export interface OutboxMessage {
  topic: string;
  type: string;
  /** The order id: the Kafka key, so one order's messages stay in one partition, in order. */
  correlationId: string;
  causationId?: string | null;
  payload: object;
  /** Extra Kafka headers; `traceparent` defaults to the current trace context. */
  headers?: Record<string, string>;
  /**
   * The message id, taken beforehand from `nextId()`; by default a new one. Lets a caller
   * store the id in the same statement as its change (a saga's awaited command) instead of
   * updating its row again after the enqueue.
   */
  id?: string;
}

/** The channel the relay LISTENs on; a NOTIFY is delivered when the enqueuing tx commits. */
export const OUTBOX_CHANNEL = 'outbox';

/**
 * One statement: the row, whether it may take the after-commit path, and the relay's wake-up
 * call, all part of the caller's transaction. A row takes the after-commit path ($7 > 0: the
 * relay waits that many seconds for it) only if its key has no older unsent row outside $8: the
 * rows this transaction already sent that way, and those this process has published but not yet
 * marked sent — an older unsent one must be published first, which the relay sees to. A row for the relay NOTIFYs it at commit.
 */
const INSERT_SQL = `
  WITH older AS (
    SELECT EXISTS (
      SELECT 1 FROM outbox
      WHERE key = $3 AND sent_at IS NULL AND id <> ALL($8::bigint[])
    ) AS unsent
  ), inserted AS (
    INSERT INTO outbox (id, topic, key, type, envelope, headers, relay_after)
    SELECT $1, $2, $3, $4, $5::jsonb, $6::jsonb,
      CASE WHEN $7::float8 > 0 AND NOT older.unsent
        THEN now() + make_interval(secs => $7::float8) ELSE now() END
    FROM older
    RETURNING relay_after > now() AS after_commit
  )
  SELECT after_commit, CASE WHEN NOT after_commit THEN pg_notify('${OUTBOX_CHANNEL}', '') END
  FROM inserted`;

/**
 * The transactional outbox: a service never writes its database and then publishes (a crash
 * in between loses the message, a failed publish leaves the write unannounced). It inserts the
 * message in the same local transaction as the business change; `OutboxRelay` publishes it
 * after the commit — or, when an `AfterCommitPublisher` is attached to the DataSource, that
 * publisher does as soon as the transaction commits, and the relay only if it could not.
 *
 * Rolling back to a savepoint by hand after an enqueue? Call `leaveToRelay(queryRunner)`: the
 * after-commit path must not publish a row the savepoint took away.
 */
export class Outbox {
  constructor(private readonly ids: IdGenerator) {}

  /** A fresh message id, for `OutboxMessage.id`. */
  nextId(): string {
    return this.ids.nextId();
  }

  async enqueue(manager: EntityManager, message: OutboxMessage): Promise<Envelope> {
    // Outside a transaction the row would commit on its own, and the guarantee with it.
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('Outbox.enqueue must run inside the transaction of the change it reports');
    }
    const envelope: Envelope = {
      id: message.id ?? this.ids.nextId(),
      type: message.type,
      correlationId: message.correlationId,
      causationId: message.causationId ?? null,
      createdAt: new Date().toISOString(),
      payload: message.payload,
    };
    // A message its consumer would reject fails here, rolling back the change it reports,
    // rather than reaching a dead-letter topic later.
    const encoded = encodeEnvelope(envelope);
    decodeEnvelope(encoded);
    const headers = { [TRACEPARENT_HEADER]: outgoingTraceparent(), ...message.headers };
    const row: UnsentRow = {
      id: envelope.id,
      topic: message.topic,
      key: envelope.correlationId,
      envelope: encoded.toString('utf8'),
      headers,
    };
    const publisher = AfterCommitPublisher.of(manager.connection);
    const afterCommit = publisher ? AfterCommitPublisher.pendingIn(manager.queryRunner) : [];
    const published = publisher?.publishedUnmarked(manager.connection, row.key) ?? [];
    const [inserted] = (await manager.query(INSERT_SQL, [
      row.id,
      row.topic,
      row.key,
      envelope.type,
      row.envelope,
      JSON.stringify(headers),
      publisher ? publisher.relayDelayMs / 1000 : 0,
      [...afterCommit.map((pending) => pending.id), ...published],
    ])) as { after_commit: boolean }[];
    if (inserted.after_commit) afterCommit.push(row);
    return envelope;
  }
}
