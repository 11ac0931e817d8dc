import { InvalidSnowflakeIdError, InvalidWorkerIdError } from './snowflake.errors.js';
import {
  MAX_SEQUENCE,
  MAX_TIMESTAMP,
  SNOWFLAKE_EPOCH_MS,
  TIMESTAMP_SHIFT,
  WORKER_ID_SHIFT,
  isValidWorkerId,
} from './snowflake-layout.js';

/**
 * A Snowflake id as it crosses every boundary (JSON, Kafka payloads, REST, entities): a decimal
 * string. Ids are above 2^53, so a JS number would round them, and JSON.stringify throws on BigInt.
 */
export type SnowflakeId = string;

export interface DecodedSnowflakeId {
  id: SnowflakeId;
  /** Unix milliseconds at which the id was issued. */
  timestampMs: number;
  createdAt: Date;
  workerId: number;
  sequence: number;
}

const MAX_INT64 = '9223372036854775807'; // 2^63 - 1
const DECIMAL_ID = /^[1-9][0-9]{0,18}$/;

/**
 * True for a positive 64-bit integer (1..2^63-1) written in canonical decimal: digits only, no
 * sign, no leading zeros, no whitespace, no exponent. Canonical matters: '007' and '7' would be
 * the same row but different cache, idempotency and Kafka keys.
 */
export function isSnowflakeId(value: unknown): value is SnowflakeId {
  if (typeof value !== 'string' || !DECIMAL_ID.test(value)) return false;
  // Same length ⇒ lexicographic order is numeric order, so no BigInt is needed.
  return value.length < MAX_INT64.length || value <= MAX_INT64;
}

/** Strict parse for untrusted input (path params, message fields); throws InvalidSnowflakeIdError. */
export function parseSnowflakeId(value: unknown): bigint {
  if (!isSnowflakeId(value)) throw new InvalidSnowflakeIdError(value);
  return BigInt(value);
}

export function decodeSnowflakeId(id: SnowflakeId | bigint): DecodedSnowflakeId {
  const big = typeof id === 'bigint' ? id : parseSnowflakeId(id);
  if (big <= 0n || big > 0x7fffffffffffffffn) throw new InvalidSnowflakeIdError(id);
  const timestampMs = Number(big >> BigInt(TIMESTAMP_SHIFT)) + SNOWFLAKE_EPOCH_MS;
  return {
    id: big.toString(),
    timestampMs,
    createdAt: new Date(timestampMs),
    workerId: Number((big >> BigInt(WORKER_ID_SHIFT)) & 0x3ffn),
    sequence: Number(big & BigInt(MAX_SEQUENCE)),
  };
}

/**
 * Builds an id from its parts. Besides tests, useful for time-range queries over id columns:
 * `composeSnowflakeId({ timestampMs: t, workerId: 0, sequence: 0 })` is the smallest id issued at t.
 */
export function composeSnowflakeId(parts: {
  timestampMs: number;
  workerId: number;
  sequence: number;
}): SnowflakeId {
  const elapsed = parts.timestampMs - SNOWFLAKE_EPOCH_MS;
  if (!Number.isInteger(elapsed) || elapsed < 0 || elapsed > MAX_TIMESTAMP) {
    throw new RangeError(`timestampMs ${parts.timestampMs} is outside the Snowflake range`);
  }
  if (!isValidWorkerId(parts.workerId)) throw new InvalidWorkerIdError(parts.workerId);
  if (!Number.isInteger(parts.sequence) || parts.sequence < 0 || parts.sequence > MAX_SEQUENCE) {
    throw new RangeError(
      `sequence must be an integer in 0..${MAX_SEQUENCE}, got ${parts.sequence}`,
    );
  }
  return (
    (BigInt(elapsed) << BigInt(TIMESTAMP_SHIFT)) |
    (BigInt(parts.workerId) << BigInt(WORKER_ID_SHIFT)) |
    BigInt(parts.sequence)
  ).toString();
}
