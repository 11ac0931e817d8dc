import { describe, it, expect } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { HashRing } from '../hashing/index.js';
import { mergeSorted, ShardRouter, type Shard } from './shard-router.js';
import { shardUrlsDuringMove } from './shard-urls.js';

// Routing alone: the router never touches its DataSources, so unopened stand-ins will do.
const dataSources = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ shard: i }) as unknown as DataSource);
const routerOf = (shards: number, previousShards?: number) =>
  new ShardRouter({
    dataSources: dataSources(Math.max(shards, previousShards ?? 0)),
    shards,
    previousShards,
  });
const url = (db: string, password = 'app') => `postgres://app:${password}@127.0.0.1:5432/${db}`;
const THREE = [url('orders_0'), url('orders_1'), url('orders_2')];
const FOUR = [...THREE, url('orders_3')];
const ids = Array.from({ length: 5_000 }, (_, i) =>
  (7_300_000_000_000_000_000n + BigInt(i) * 7_919n).toString(),
);

describe('ShardRouter routing', () => {
  it('routes a key to the handle the ring names, shards named by position', () => {
    const three = routerOf(3);
    expect(three.all().map((s) => s.name)).toEqual(['shard-0', 'shard-1', 'shard-2']);
    const ring = new HashRing(['shard-0', 'shard-1', 'shard-2']);
    for (const id of ids.slice(0, 500)) {
      const shard = three.forKey(id);
      expect(shard.name).toBe(ring.owner(id));
      expect(shard.dataSource).toBe(three.all()[shard.index].dataSource);
    }
  });

  it("takes the shards being removed after the ring's, and refuses a list of another length", () => {
    expect(shardUrlsDuringMove(THREE, FOUR)).toEqual(FOUR);
    expect(shardUrlsDuringMove(FOUR, THREE)).toEqual(FOUR);
    expect(shardUrlsDuringMove(THREE)).toEqual(THREE);
    expect(() => new ShardRouter({ dataSources: dataSources(3), shards: 4 })).toThrow(
      /3 DataSources for rings of 4 shards/,
    );
    expect(
      () => new ShardRouter({ dataSources: dataSources(4), shards: 3, previousShards: 3 }),
    ).toThrow(/4 DataSources for rings of 3 and 3 shards/);
  });

  it('keeps every owner when a password or host alias changes', () => {
    const rotated = [url('orders_0', 'rotated'), url('orders_1', 'rotated'), url('orders_2', 'x')];
    expect(shardUrlsDuringMove([...rotated, FOUR[3]], THREE)).toHaveLength(4);
  });

  it('refuses a previous list whose shards are other databases (reordered list)', () => {
    expect(() => shardUrlsDuringMove([THREE[1], THREE[0], THREE[2], FOUR[3]], THREE)).toThrow(
      /shard-0 is .*orders_0 before the move but .*orders_1 after it/,
    );
  });

  it('during a move, names the new owner first and the old one second, when they differ', () => {
    const router = routerOf(4, 3);
    const oldRing = new HashRing(['shard-0', 'shard-1', 'shard-2']);
    let moving = 0;
    for (const id of ids) {
      const owners = router.forKeyDuringMove(id).map((s) => s.name);
      if (owners.length === 2) {
        moving++;
        expect(owners).toEqual(['shard-3', oldRing.owner(id)]);
      } else {
        expect(owners).toEqual([oldRing.owner(id)]);
      }
    }
    expect(moving / ids.length).toBeGreaterThan(0.25 * 0.85);
    expect(moving / ids.length).toBeLessThan(0.25 * 1.15);
  });

  it('during removal of the last shard, routes its keys to their new owners and keeps it readable', () => {
    const router = routerOf(3, 4);
    const leaving = ids.filter((id) => router.forKeyDuringMove(id).length === 2);
    expect(leaving.length).toBeGreaterThan(0);
    for (const id of leaving) expect(router.forKeyDuringMove(id)[1].name).toBe('shard-3');
  });
});

describe('ShardRouter.findAcrossMove', () => {
  const router = routerOf(4, 3);
  const movingId = ids.find((id) => router.forKeyDuringMove(id).length === 2)!;
  const stayingId = ids.find((id) => router.forKeyDuringMove(id).length === 1)!;

  it('reads the new owner, then the old one', async () => {
    const seen: string[] = [];
    const found = await router.findAcrossMove(movingId, async (shard) => {
      seen.push(shard.name);
      return shard.name === 'shard-3' ? null : { on: shard.name };
    });
    expect(seen).toEqual(['shard-3', router.forKeyDuringMove(movingId)[1].name]);
    expect(found).toEqual({ on: seen[1] });
  });

  it('looks at the new owner again when the row left the old one between the reads', async () => {
    // The move commits its copy before its delete: absent on both reads means "moved meanwhile".
    let copied = false;
    const seen: string[] = [];
    const found = await router.findAcrossMove(movingId, async (shard: Shard) => {
      seen.push(shard.name);
      if (shard.name === 'shard-3') return copied ? 'row' : null;
      copied = true; // the rebalancer moves the row just before this read of the old owner
      return null;
    });
    expect(seen).toEqual(['shard-3', router.forKeyDuringMove(movingId)[1].name, 'shard-3']);
    expect(found).toBe('row');
  });

  it('reads one shard for a key that does not move, and returns null when nothing is found', async () => {
    const seen: string[] = [];
    expect(
      await router.findAcrossMove(stayingId, async (s) => (seen.push(s.name), undefined)),
    ).toBeNull();
    expect(seen).toHaveLength(1);
  });
});

describe('ShardRouter.locate', () => {
  it('outside a move names the owner without asking; during one, where the rows are', async () => {
    const steady = routerOf(4);
    const movingId = ids.find((id) => routerOf(4, 3).forKeyDuringMove(id).length === 2)!;
    const never = async (): Promise<boolean> => {
      throw new Error('no query outside a move');
    };
    expect(await steady.locate(movingId, never)).toBe(steady.forKey(movingId));

    const router = routerOf(4, 3);
    const [owner, previous] = router.forKeyDuringMove(movingId);
    expect(await router.locate(movingId, async (s) => s === previous)).toBe(previous);
    expect(await router.locate(movingId, async (s) => s === owner)).toBe(owner);
    expect(await router.locate(movingId, async () => false)).toBe(owner); // new key: the owner
  });
});

describe('ShardRouter.scatterGather', () => {
  const byId = (a: { id: string }, b: { id: string }) =>
    BigInt(b.id) > BigInt(a.id) ? 1 : BigInt(b.id) < BigInt(a.id) ? -1 : 0;

  it('merges every shard, a leaving one included, newest first under the limit', async () => {
    const router = routerOf(3, 4);
    const rows = await router.scatterGather(
      async (shard) => [{ id: String(100 - shard.index), shard: shard.name }],
      { compare: byId, limit: 3 },
    );
    expect(rows.map((r) => r.shard)).toEqual(['shard-0', 'shard-1', 'shard-2']);
    const all = await router.scatterGather(async (shard) => [{ id: String(shard.index) }], {
      compare: byId,
      limit: 10,
    });
    expect(all.map((r) => r.id)).toEqual(['3', '2', '1', '0']);
  });

  it('with keyOf, returns a row copied but not yet deleted once, from its new owner', async () => {
    const router = routerOf(4, 3);
    const movingId = ids.find((id) => router.forKeyDuringMove(id).length === 2)!;
    const [newOwner, oldOwner] = router.forKeyDuringMove(movingId);
    const rows = await router.scatterGather(
      async (shard) =>
        shard === newOwner || shard === oldOwner ? [{ id: movingId, from: shard.name }] : [],
      { compare: byId, limit: 10, keyOf: (row) => row.id },
    );
    expect(rows).toEqual([{ id: movingId, from: newOwner.name }]);
  });
});

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
