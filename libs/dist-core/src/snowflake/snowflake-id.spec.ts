import { describe, expect, it } from '@jest/globals';
import {
  composeSnowflakeId,
  decodeSnowflakeId,
  isSnowflakeId,
  parseSnowflakeId,
} from './snowflake-id.js';
import { InvalidSnowflakeIdError } from './snowflake.errors.js';
import {
  LAST_ISSUABLE_MS,
  MAX_SEQUENCE,
  MAX_WORKER_ID,
  SNOWFLAKE_EPOCH_MS,
} from './snowflake-layout.js';

describe('isSnowflakeId / parseSnowflakeId', () => {
  it.each([
    ['1', 1n],
    ['9007199254740993', 2n ** 53n + 1n],
    ['9223372036854775807', 2n ** 63n - 1n],
    ['914150393355729687', 914150393355729687n],
  ])('accepts %s', (text, value) => {
    expect(isSnowflakeId(text)).toBe(true);
    expect(parseSnowflakeId(text)).toBe(value);
  });

  it.each([
    ['zero', '0'],
    ['negative', '-1'],
    ['explicit plus', '+1'],
    ['leading zero', '01'],
    ['2^63', '9223372036854775808'],
    ['2^64', '18446744073709551616'],
    ['20 digits', '10000000000000000000'],
    ['letters', '12a'],
    ['hex', '0x10'],
    ['exponent', '1e5'],
    ['decimal point', '1.0'],
    ['leading space', ' 1'],
    ['trailing newline', '1\n'],
    ['empty', ''],
    ['non-ASCII digits', '١٢٣'],
  ])('rejects %s (%j)', (_label, text) => {
    expect(isSnowflakeId(text)).toBe(false);
    expect(() => parseSnowflakeId(text)).toThrow(InvalidSnowflakeIdError);
  });

  it.each([[123], [123n], [null], [undefined], [{}], [['1']]])('rejects non-string %p', (value) => {
    expect(isSnowflakeId(value)).toBe(false);
    expect(() => parseSnowflakeId(value)).toThrow(InvalidSnowflakeIdError);
  });
});

describe('composeSnowflakeId / decodeSnowflakeId', () => {
  it('round-trips timestamp, worker and sequence at the edges of each field', () => {
    const cases = [
      { timestampMs: SNOWFLAKE_EPOCH_MS + 1, workerId: 0, sequence: 0 },
      { timestampMs: Date.UTC(2026, 10, 27, 13, 0, 0, 123), workerId: 513, sequence: 77 },
      { timestampMs: LAST_ISSUABLE_MS, workerId: MAX_WORKER_ID, sequence: MAX_SEQUENCE },
    ];
    for (const parts of cases) {
      const id = composeSnowflakeId(parts);
      expect(isSnowflakeId(id)).toBe(true);
      const decoded = decodeSnowflakeId(id);
      expect(decoded).toEqual({ id, ...parts, createdAt: new Date(parts.timestampMs) });
      expect(decodeSnowflakeId(BigInt(id))).toEqual(decoded);
    }
  });

  it('keeps the sign bit clear: the largest id is 2^63 - 1', () => {
    const id = composeSnowflakeId({
      timestampMs: LAST_ISSUABLE_MS,
      workerId: MAX_WORKER_ID,
      sequence: MAX_SEQUENCE,
    });
    expect(id).toBe((2n ** 63n - 1n).toString());
  });

  it('refuses parts that do not fit their bits', () => {
    const ok = { timestampMs: SNOWFLAKE_EPOCH_MS + 5, workerId: 1, sequence: 1 };
    expect(() => composeSnowflakeId({ ...ok, timestampMs: SNOWFLAKE_EPOCH_MS - 1 })).toThrow(
      RangeError,
    );
    expect(() => composeSnowflakeId({ ...ok, timestampMs: LAST_ISSUABLE_MS + 1 })).toThrow(
      RangeError,
    );
    expect(() => composeSnowflakeId({ ...ok, workerId: 1024 })).toThrow(/0\.\.1023/);
    expect(() => composeSnowflakeId({ ...ok, sequence: 4096 })).toThrow(RangeError);
  });

  it('decodes only valid ids', () => {
    expect(() => decodeSnowflakeId('0')).toThrow(InvalidSnowflakeIdError);
    expect(() => decodeSnowflakeId(-5n)).toThrow(InvalidSnowflakeIdError);
    expect(() => decodeSnowflakeId(2n ** 63n)).toThrow(InvalidSnowflakeIdError);
  });
});
