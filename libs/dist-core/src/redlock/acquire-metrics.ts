import { redlockAcquireDuration, redlockAcquireFailures } from '../metrics/catalog.js';
import { QuorumUnavailableError, ResourceLockedError } from './errors.js';

/**
 * Records one acquire: its duration, and for a failure its kind. Contention (`resource_locked`)
 * is normal; `quorum_unavailable` is an outage of the Redis nodes.
 */
export function observeAcquire(startedMs: number, nowMs: number, error: unknown = null): void {
  const seconds = Math.max(0, nowMs - startedMs) / 1000;
  redlockAcquireDuration.observe({ outcome: error === null ? 'acquired' : 'failed' }, seconds);
  if (error !== null) redlockAcquireFailures.inc({ kind: failureKindOf(error) });
}

function failureKindOf(error: unknown): string {
  if (error instanceof ResourceLockedError) return 'resource_locked';
  if (error instanceof QuorumUnavailableError) return 'quorum_unavailable';
  if (error instanceof RangeError) return 'invalid_request';
  return 'error';
}
