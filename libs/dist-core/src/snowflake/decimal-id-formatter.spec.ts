import { describe, expect, it } from '@jest/globals';
import { DecimalIdFormatter } from './decimal-id-formatter.js';

function expectFormatsLikeBigInt(high: bigint): void {
  const formatter = new DecimalIdFormatter();
  formatter.setHigh(high);
  const mismatches: string[] = [];
  for (let sequence = 0; sequence < 4096; sequence++) {
    const expected = (high + BigInt(sequence)).toString();
    const actual = formatter.format(sequence);
    if (actual !== expected) mismatches.push(`${high} + ${sequence}: ${actual} != ${expected}`);
  }
  expect(mismatches).toEqual([]);
}

describe('DecimalIdFormatter', () => {
  it('matches BigInt#toString for every sequence, including the decimal carry', () => {
    const highs = [
      0n, // no prefix at all: the ids are bare numbers
      1n,
      5904n, // 5904 + 4095 = 9999: no carry, the last sequence fills the four digits
      5905n, // carries exactly at the last sequence
      9999n, // carries from 1 to 10000
      10_000n,
      99_999_999n, // the carry ripples into a longer prefix
      4_194_304n, // timestamp 1, worker 0
      914150393355729687n - 4000n,
      2n ** 63n - 4096n,
    ];
    for (const high of highs) expectFormatsLikeBigInt(high);
  });

  it('matches BigInt#toString for random high parts', () => {
    for (let i = 0; i < 64; i++) {
      const timestamp = BigInt(Math.floor(Math.random() * 2 ** 41));
      const worker = BigInt(Math.floor(Math.random() * 1024));
      expectFormatsLikeBigInt((timestamp << 22n) | (worker << 12n));
    }
  });
});
