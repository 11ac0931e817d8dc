import { describe, it, expect } from '@jest/globals';
import { murmur3_32, murmur3_32Bytes } from './murmur3.js';

// Reference values of MurmurHash3 x86_32 (SMHasher), so a process in another language agrees.
const VECTORS: Array<[string, number, number]> = [
  ['', 0, 0],
  ['', 1, 0x514e28b7],
  ['', 0xffffffff, 0x81f16f39],
  ['a', 0x9747b28c, 0x7fa09ea6],
  ['aaa', 0x9747b28c, 0x283e0130],
  ['aaaa', 0x9747b28c, 0x5a97808a],
  ['abcd', 0x9747b28c, 0xf0478627],
  ['Hello, world!', 0x9747b28c, 0x24884cba],
  ['ππππππππ', 0x9747b28c, 0xd58063c1],
  ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
];

describe('murmur3_32', () => {
  it.each(VECTORS)('hashes %j with seed %d to the reference value', (input, seed, expected) => {
    expect(murmur3_32(input, seed)).toBe(expected);
    expect(murmur3_32Bytes(new TextEncoder().encode(input), seed)).toBe(expected);
  });

  it('hashes the UTF-8 bytes when a non-ASCII char appears late in the key', () => {
    for (const key of ['1234é', '12345678ü', 'abc€', 'x😀', 'shard-0#1ß']) {
      expect(murmur3_32(key, 7)).toBe(murmur3_32Bytes(new TextEncoder().encode(key), 7));
    }
  });

  it('returns an unsigned 32-bit integer', () => {
    for (let i = 0; i < 1000; i++) {
      const h = murmur3_32(`key-${i}`);
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
    }
  });
});
