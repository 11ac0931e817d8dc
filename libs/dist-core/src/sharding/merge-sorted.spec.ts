import { describe, it, expect } from '@jest/globals';
import { mergeSorted } from './merge-sorted.js';

const desc = (a: number, b: number) => b - a;

describe('mergeSorted', () => {
  it('merges sorted lists into one sorted list cut at the limit', () => {
    const lists = [
      [9, 5, 1],
      [8, 7, 2],
      [6, 4, 3],
    ];
    expect(mergeSorted(lists, { compare: desc, limit: 5 })).toEqual([9, 8, 7, 6, 5]);
    expect(mergeSorted(lists, { compare: desc, limit: 100 })).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('handles empty lists, no lists and a zero limit', () => {
    expect(mergeSorted([[], [3, 1], []], { compare: desc, limit: 10 })).toEqual([3, 1]);
    expect(mergeSorted<number>([], { compare: desc, limit: 10 })).toEqual([]);
    expect(mergeSorted([[1]], { compare: desc, limit: 0 })).toEqual([]);
  });

  it('takes equal items from the lower list index first', () => {
    const lists = [[{ k: 1, from: 'a' }], [{ k: 1, from: 'b' }]];
    const merged = mergeSorted(lists, { compare: (x, y) => x.k - y.k, limit: 2 });
    expect(merged.map((x) => x.from)).toEqual(['a', 'b']);
  });

  it('equals sort-then-slice on random inputs', () => {
    for (let trial = 0; trial < 200; trial++) {
      const lists = Array.from({ length: 1 + (trial % 6) }, () =>
        Array.from({ length: Math.floor(Math.random() * 20) }, () =>
          Math.floor(Math.random() * 50),
        ).sort(desc),
      );
      const limit = Math.floor(Math.random() * 40);
      const expected = lists.flat().sort(desc).slice(0, limit);
      expect(mergeSorted(lists, { compare: desc, limit })).toEqual(expected);
    }
  });
});
