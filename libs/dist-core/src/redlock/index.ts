export { Redlock, type Lock, type RedlockOptions, type AcquireOptions } from './redlock.js';
export { createRedlockClients, closeRedisClients, type RedlockClientOptions } from './clients.js';
export {
  RedlockError,
  ResourceLockedError,
  QuorumUnavailableError,
  LockLostError,
} from './errors.js';
export { claimFence, lockFencesTableSql, type FenceQueryable } from './fenced-write.js';
export { quorumSize } from './quorum.js';
