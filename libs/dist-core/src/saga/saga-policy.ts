/** The timing and retry rules the state machine applies. */
export interface SagaPolicy {
  /** How long a command waits for its reply before it counts as timed out. */
  stepTimeoutMs: number;
  /** From start until the saga gives up and compensates with reason TIMEOUT (until the pivot). */
  sagaTimeoutMs: number;
  /** Sends of a forward step without a definitive answer before the saga compensates. */
  maxStepAttempts: number;
  /**
   * Failure answers to a command that must succeed (a compensation, a step past the pivot)
   * before PARKED. A command left unanswered is sent again until answered, never parked.
   */
  parkAfterAttempts: number;
  /** Delay before re-sending: capped exponential with jitter. */
  backoff: BackoffPolicy;
}

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_SAGA_POLICY: SagaPolicy = {
  stepTimeoutMs: 5_000,
  sagaTimeoutMs: 25_000,
  maxStepAttempts: 3,
  parkAfterAttempts: 10,
  backoff: { baseMs: 200, maxMs: 5_000 },
};

/**
 * Delay before send number `attempt + 1`: baseMs·2^(attempt−1), capped at maxMs, then "equal
 * jitter" (half fixed, half random) so sagas that timed out together do not retry in lockstep,
 * yet no retry comes back immediately.
 */
export function backoffDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number,
): number {
  const capped = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(capped / 2 + random() * (capped / 2));
}
