/**
 * The one envelope every message travels in. Ids are decimal strings: a Snowflake id is above
 * 2^53, JSON.parse would round it as a number, and Nest's Kafka serializer throws on BigInt.
 */
export interface Envelope<P = unknown> {
  /** This message's Snowflake id: the inbox's deduplication key. */
  id: string;
  /** The message type, e.g. `inventory.reserve`; declared once in the contracts. */
  type: string;
  /** The business transaction it belongs to: the order id (also the Kafka key). */
  correlationId: string;
  /** The id of the message that caused this one, or null for a first command. */
  causationId: string | null;
  /** ISO-8601 time the message was created (in the producer's local transaction). */
  createdAt: string;
  payload: P;
}

/** Kafka headers carried beside the envelope: W3C trace context. */
export const TRACEPARENT_HEADER = 'traceparent';

export class MalformedEnvelopeError extends Error {
  constructor(reason: string) {
    super(`Malformed envelope: ${reason}`);
    this.name = 'MalformedEnvelopeError';
  }
}

const DECIMAL_ID = /^[1-9][0-9]{0,18}$/;

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '')
    throw new MalformedEnvelopeError(`${field} must be a non-empty string`);
  return value;
}

function requireId(value: unknown, field: string): string {
  const text = requireString(value, field);
  if (!DECIMAL_ID.test(text) || BigInt(text) > 0x7fffffffffffffffn) {
    throw new MalformedEnvelopeError(`${field} must be a positive 64-bit decimal string`);
  }
  return text;
}

export function encodeEnvelope(envelope: Envelope): Buffer {
  return Buffer.from(JSON.stringify(envelope));
}

/** Parses and checks the envelope's own fields; the payload is checked by its type's handler. */
export function decodeEnvelope(value: Buffer | null): Envelope {
  if (value === null) throw new MalformedEnvelopeError('empty message');
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    throw new MalformedEnvelopeError('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MalformedEnvelopeError('not a JSON object');
  }
  const raw = parsed as Record<string, unknown>;
  const createdAt = requireString(raw.createdAt, 'createdAt');
  if (Number.isNaN(Date.parse(createdAt)))
    throw new MalformedEnvelopeError('createdAt must be an ISO-8601 time');
  if (typeof raw.payload !== 'object' || raw.payload === null) {
    throw new MalformedEnvelopeError('payload must be an object');
  }
  return {
    id: requireId(raw.id, 'id'),
    type: requireString(raw.type, 'type'),
    correlationId: requireId(raw.correlationId, 'correlationId'),
    causationId:
      raw.causationId === null || raw.causationId === undefined
        ? null
        : requireId(raw.causationId, 'causationId'),
    createdAt,
    payload: raw.payload,
  };
}
