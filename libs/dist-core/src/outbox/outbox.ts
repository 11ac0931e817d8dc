import type { EntityManager } from 'typeorm';
import {
  decodeEnvelope,
  encodeEnvelope,
  outgoingTraceparent,
  TRACEPARENT_HEADER,
  type Envelope,
} from '../kafka/index.js';
import type { IdGenerator } from './id-generator.js';

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

// One statement: the row and the wake-up call, both part of the caller's transaction.
const INSERT_SQL = `
  WITH inserted AS (
    INSERT INTO outbox (id, topic, key, type, envelope, headers)
    VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)
    RETURNING id
  )
  SELECT pg_notify('${OUTBOX_CHANNEL}', '') FROM inserted`;

/**
 * The transactional outbox: a service never writes its database and then publishes (a crash
 * in between loses the message, a failed publish leaves the write unannounced). It inserts the
 * message in the same local transaction as the business change; `OutboxRelay` publishes it
 * after the commit.
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
    await manager.query(INSERT_SQL, [
      envelope.id,
      message.topic,
      envelope.correlationId,
      envelope.type,
      encoded.toString('utf8'),
      JSON.stringify(headers),
    ]);
    return envelope;
  }
}
