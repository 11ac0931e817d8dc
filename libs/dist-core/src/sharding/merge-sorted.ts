export interface MergeOptions<T> {
  compare: (a: T, b: T) => number;
  limit: number;
}

/**
 * k-way merge of lists that are each sorted by `compare`, stopping after `limit` items.
 *
 * The smallest head is found by a linear scan, not a heap: k is the number of shards (a handful),
 * where a scan of k heads beats heap bookkeeping and reads top to bottom. Equal heads are taken
 * from the lowest list index first, so the result is deterministic.
 */
export function mergeSorted<T>(lists: ReadonlyArray<readonly T[]>, options: MergeOptions<T>): T[] {
  const { compare, limit } = options;
  const heads = lists.map(() => 0);
  const merged: T[] = [];
  while (merged.length < limit) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      if (heads[i] >= lists[i].length) continue;
      if (best === -1 || compare(lists[i][heads[i]], lists[best][heads[best]]) < 0) best = i;
    }
    if (best === -1) break;
    merged.push(lists[best][heads[best]++]);
  }
  return merged;
}
