export { Redlock, type Lock, type RedlockOptions, type AcquireOptions } from './redlock.js';
export { createRedlockClients, closeRedisClients, type RedlockClientOptions } from './clients.js';
export {
  RedlockError,
  ResourceLockedError,
  QuorumUnavailableError,
  LockLostError,
} from './errors.js';
export {
  claimFence,
  claimFenceSql,
  lockFencesTableSql,
  type FenceQueryable,
} from './fenced-write.js';
export { quorumSize, clockDriftMs, validityMs } from './quorum.js';
