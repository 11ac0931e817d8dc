// For tests that break a lease behind its holder's back.
export { workerResource } from '../worker-id-lease.js';
