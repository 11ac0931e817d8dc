import { imul, murmur3_32 } from './murmur3.js';

/** A shard on the ring. `weight` scales its number of virtual nodes (default 1). */
export interface RingMember {
  name: string;
  weight?: number;
}

export interface HashRingOptions {
  /** Virtual nodes per unit of weight (Ketama's 160: max/mean load ≈ 1.06 / 1.09 / 1.12 for 3 / 5 / 10 shards). */
  vnodes?: number;
  /** Hash seed. Every process routing the same keys must use the same seed (and the same names). */
  seed?: number;
  /** log2 of the recent-key table's sets of 2 (default 10: 2,048 keys, and as many hot ones); 0: no caching. */
  cacheBits?: number;
}

export const DEFAULT_VNODES = 160;
export const DEFAULT_CACHE_BITS = 10;

/**
 * Consistent-hash ring: key → shard name.
 *
 * Why virtual nodes: with one point per shard, the arc a shard owns is exponentially distributed
 * and loads differ by several times. With v points per shard a shard's load is a sum of v arcs,
 * so its spread shrinks like 1/√v (160 points: ±8 % one standard deviation). Adding a shard only
 * inserts its points, so the keys that move are exactly those now falling just before a new
 * point, all of them to the new shard; removing one moves only the keys it owned.
 *
 * Why names seed the points: every process must agree on every key's owner, across restarts and
 * reorderings of the configuration. Points are murmur3(`${name}#${i}`); equal points (a 32-bit
 * collision) are ordered by shard name, so the owner of every key is a pure function of the set of
 * (name, weight) pairs, the vnode count and the seed.
 *
 * Lookup: one murmur3 of the key and a binary search in a sorted Uint32Array, narrowed by a
 * bucket index to the ~1 point sharing the hash's top bits; owners sit in a parallel Uint16Array.
 * Keys looked up repeatedly are answered from a small cache (ownerIndex), since a ring is
 * immutable and an answer never goes stale.
 */
export class HashRing {
  /** Shard names in the order given (owner indexes refer to this order). */
  readonly shards: readonly string[];
  readonly vnodes: number;
  readonly seed: number;
  private readonly points: Uint32Array;
  private readonly owners: Uint16Array;
  /** bucketStart[b] = index of the first point ≥ b << bucketShift; see ownerOfHash. */
  private readonly bucketStart: Uint32Array;
  private readonly bucketShift: number;
  private readonly weights: ReadonlyMap<string, number>;
  private readonly hotKeys = new Map<string, number>();
  private readonly recentKeys: string[];
  private readonly recentOwners: Uint16Array;
  private readonly cacheShift: number;
  private readonly cacheEnabled: boolean;

  constructor(members: ReadonlyArray<string | RingMember>, options: HashRingOptions = {}) {
    const normalized = members.map((m) => (typeof m === 'string' ? { name: m, weight: 1 } : m));
    if (normalized.length === 0) throw new Error('HashRing needs at least one shard');
    if (normalized.length > 0xffff) throw new Error('HashRing supports at most 65535 shards');
    this.vnodes = options.vnodes ?? DEFAULT_VNODES;
    this.seed = (options.seed ?? 0) >>> 0;
    const cacheBits = options.cacheBits ?? DEFAULT_CACHE_BITS;
    if (!Number.isInteger(cacheBits) || cacheBits < 0 || cacheBits > 20) {
      throw new Error(`HashRing cacheBits must be an integer in 0..20, got ${cacheBits}`);
    }
    // 2^cacheBits sets of 2 ways, and at most as many hot keys. cacheBits 0 turns caching off.
    this.cacheEnabled = cacheBits > 0;
    this.cacheShift = this.cacheEnabled ? 32 - cacheBits : 31;
    const slots = this.cacheEnabled ? 2 << cacheBits : 4;
    this.recentKeys = new Array<string>(slots);
    this.recentOwners = new Uint16Array(slots);
    if (!Number.isInteger(this.vnodes) || this.vnodes < 1) {
      throw new Error(`HashRing vnodes must be a positive integer, got ${this.vnodes}`);
    }

    const weights = new Map<string, number>();
    for (const { name, weight = 1 } of normalized) {
      if (typeof name !== 'string' || name.length === 0)
        throw new Error('Shard names must be non-empty');
      if (weights.has(name)) throw new Error(`Duplicate shard name on the ring: ${name}`);
      if (!(weight > 0) || !Number.isFinite(weight)) {
        throw new Error(`Shard ${name} has an invalid weight ${weight}`);
      }
      weights.set(name, weight);
    }
    this.weights = weights;
    this.shards = normalized.map((m) => m.name);

    const entries: Array<{ point: number; owner: number }> = [];
    normalized.forEach(({ name, weight = 1 }, owner) => {
      const count = Math.max(1, Math.round(this.vnodes * weight));
      for (let i = 0; i < count; i++)
        entries.push({ point: murmur3_32(`${name}#${i}`, this.seed), owner });
    });
    entries.sort(
      (a, b) =>
        a.point - b.point ||
        (this.shards[a.owner] < this.shards[b.owner]
          ? -1
          : this.shards[a.owner] > this.shards[b.owner]
            ? 1
            : 0),
    );
    this.points = Uint32Array.from(entries, (e) => e.point);
    this.owners = Uint16Array.from(entries, (e) => e.owner);

    // About one bucket per point (a power of two, at most 2^16), so a bucket holds ~1 point.
    const bucketBits = Math.min(16, Math.max(1, Math.ceil(Math.log2(this.points.length))));
    this.bucketShift = 32 - bucketBits;
    const buckets = 1 << bucketBits;
    this.bucketStart = new Uint32Array(buckets + 1);
    let i = 0;
    for (let b = 0; b < buckets; b++) {
      const start = (b << this.bucketShift) >>> 0;
      while (i < this.points.length && this.points[i] < start) i++;
      this.bucketStart[b] = i;
    }
    this.bucketStart[buckets] = this.points.length;

    // Empty cache slots hold '' with the true owner of '' rather than undefined: a lookup of ''
    // is then still right, and the hit test compares string with string only, which V8 keeps
    // on its fast path (undefined in the slots made every later comparison generic).
    this.recentKeys.fill('');
    this.recentOwners.fill(this.ownerOfHash(murmur3_32('', this.seed)));
  }

  /** Name of the shard that owns `key`. */
  owner(key: string): string {
    return this.shards[this.ownerIndex(key)];
  }

  /** Index (into `shards`) of the shard that owns `key`. */
  ownerIndex(key: string): number {
    // Hot keys: a Map lookup uses the hash V8 keeps in the string itself, the cheapest way to
    // recognise a string seen before (cheaper than reading its chars to hash them again).
    const hot = this.hotKeys.get(key);
    if (hot !== undefined) return hot;
    return this.ownerIndexCold(key);
  }

  /**
   * Keys reach the hot Map only when seen twice while still in a small 2-way set-associative
   * table (indexed by a few sampled chars). A stream of distinct keys, the ring's main load,
   * then costs two array stores per lookup, never a Map insertion (which would make it several
   * times slower, as an LRU does).
   */
  private ownerIndexCold(key: string): number {
    const n = key.length;
    const sample =
      imul(n, 0x9e3779b1) ^
      key.charCodeAt(n - 1) ^
      (key.charCodeAt(n - 2) << 7) ^
      (key.charCodeAt(n - 3) << 14) ^
      (key.charCodeAt(n >>> 1) << 21);
    const way0 = (imul(sample, 0x85ebca6b) >>> this.cacheShift) << 1;
    const keys = this.recentKeys;
    let owner: number;
    if (keys[way0] === key) owner = this.recentOwners[way0];
    else if (keys[way0 + 1] === key) owner = this.recentOwners[way0 + 1];
    else {
      owner = this.ownerOfHash(murmur3_32(key, this.seed));
      if (!this.cacheEnabled) return owner;
      // The older entry of the set is evicted, the newer one moves to way 1.
      keys[way0 + 1] = keys[way0];
      this.recentOwners[way0 + 1] = this.recentOwners[way0];
      keys[way0] = key;
      this.recentOwners[way0] = owner;
      return owner;
    }
    // Seen twice: promote. A full Map is emptied rather than kept in LRU order: the hot keys of
    // the moment come back within two lookups, and nothing is paid per hit.
    if (this.hotKeys.size >= this.recentKeys.length) this.hotKeys.clear();
    this.hotKeys.set(key, owner);
    return owner;
  }

  /** Owner of a precomputed 32-bit hash: the first point clockwise from it (wrapping at 2^32). */
  ownerOfHash(hash: number): number {
    // The binary search is narrowed to the points sharing the hash's top bits: a search over the
    // whole array costs log2(points) unpredictable branches (~9 for 3 shards), and a hot-key
    // lookup then spends more time in branch mispredictions than in hashing.
    const points = this.points;
    const bucket = hash >>> this.bucketShift;
    let lo = this.bucketStart[bucket];
    let hi = this.bucketStart[bucket + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid] < hash) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === points.length ? 0 : lo];
  }

  /** A new ring with one more shard; this ring is unchanged. */
  withShard(member: string | RingMember): HashRing {
    return new HashRing([...this.members(), member], { vnodes: this.vnodes, seed: this.seed });
  }

  /** A new ring without `name`; this ring is unchanged. */
  withoutShard(name: string): HashRing {
    if (!this.weights.has(name)) throw new Error(`Shard ${name} is not on the ring`);
    return new HashRing(
      this.members().filter((m) => m.name !== name),
      { vnodes: this.vnodes, seed: this.seed },
    );
  }

  members(): RingMember[] {
    return this.shards.map((name) => ({ name, weight: this.weights.get(name) }));
  }

  /** Number of points on the ring (Σ vnodes × weight). */
  get size(): number {
    return this.points.length;
  }
}
