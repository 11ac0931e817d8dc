export { HashRing, DEFAULT_VNODES, DEFAULT_CACHE_BITS } from './hash-ring.js';
export type { HashRingOptions, RingMember } from './hash-ring.js';
export { murmur3_32, murmur3_32Bytes } from './murmur3.js';
