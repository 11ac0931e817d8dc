export { HashRing } from './hash-ring.js';
export type { HashRingOptions, RingMember } from './hash-ring.js';
