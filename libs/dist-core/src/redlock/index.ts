// The contents page: Redlock over independent Redis nodes (a majority holds the lock), its
// errors, and the fencing token a write checks so a holder that outlived its lease is refused.
export { Redlock, type Lock, type RedlockOptions } from './redlock.js';
export { createRedlockClients, closeRedisClients } from './clients.js';
export {
  RedlockError,
  ResourceLockedError,
  QuorumUnavailableError,
  LockLostError,
} from './errors.js';
export { claimFence, lockFencesTableSql } from './fenced-write.js';
