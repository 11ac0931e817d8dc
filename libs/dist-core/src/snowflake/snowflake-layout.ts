// The 64-bit layout, Twitter's: | 0 | 41 bits ms since SNOWFLAKE_EPOCH_MS | 10 bits worker | 12 bits sequence |
// The sign bit stays 0 so an id is a positive Postgres `bigint` and sorts the same as a number
// and (at equal length) as a decimal string.

/**
 * 2020-01-01T00:00:00.000Z. Two reasons for this value:
 * - 41 bits of milliseconds last 69.7 years, so ids run out in September 2089;
 * - ids pass 2^53 once the timestamp passes 2^31 ms (24.8 days after the epoch), so every id
 *   issued today is already too large for a JS number. A consumer that parses ids as numbers
 *   breaks on the first id, in development, instead of silently rounding years later.
 */
export const SNOWFLAKE_EPOCH_MS = Date.UTC(2020, 0, 1);

export const TIMESTAMP_BITS = 41;
export const WORKER_ID_BITS = 10;
export const SEQUENCE_BITS = 12;

export const MAX_TIMESTAMP = 2 ** TIMESTAMP_BITS - 1;
export const MAX_WORKER_ID = 2 ** WORKER_ID_BITS - 1;
export const MAX_SEQUENCE = 2 ** SEQUENCE_BITS - 1;
/** Ids one worker can issue per millisecond: 4,096, i.e. 4.096M/s. */
export const IDS_PER_MS = MAX_SEQUENCE + 1;

export const WORKER_ID_SHIFT = SEQUENCE_BITS;
export const TIMESTAMP_SHIFT = WORKER_ID_BITS + SEQUENCE_BITS;

/** Last millisecond (Unix time) an id can carry. */
export const LAST_ISSUABLE_MS = SNOWFLAKE_EPOCH_MS + MAX_TIMESTAMP;

export function isValidWorkerId(workerId: number): boolean {
  return Number.isInteger(workerId) && workerId >= 0 && workerId <= MAX_WORKER_ID;
}
