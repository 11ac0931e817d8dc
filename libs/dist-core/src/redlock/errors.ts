/**
 * Two different faults a caller must tell apart (npm `redlock` throws the same error for both,
 * its issues #185/#288): "someone else holds it" is normal contention worth retrying later;
 * "a quorum of nodes did not answer" is an outage, and retrying it in a loop only piles up callers.
 */
export class RedlockError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A quorum answered, but some node refused because another holder has one of the resources. */
export class ResourceLockedError extends RedlockError {
  constructor(readonly resources: readonly string[]) {
    super(`resource locked by another holder: ${resources.join(', ')}`);
  }
}

/** Too few nodes answered (down, stalled past the per-node timeout, or too slow for the ttl). */
export class QuorumUnavailableError extends RedlockError {
  constructor(
    readonly resources: readonly string[],
    reason: string,
  ) {
    super(`no Redis quorum for ${resources.join(', ')}: ${reason}`);
  }
}

/** The lock expired or was taken over before it could be extended: exclusion is gone. */
export class LockLostError extends RedlockError {
  constructor(
    readonly resources: readonly string[],
    reason: string,
  ) {
    super(`lock lost on ${resources.join(', ')}: ${reason}`);
  }
}
