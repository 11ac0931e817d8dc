import type { BackoffPolicy } from '../engine/index.js';

/** The timing and retry rules the state machine applies. */
export interface SagaPolicy {
  /** How long a command waits for its reply before it counts as timed out. */
  stepTimeoutMs: number;
  /** From start until the saga gives up and compensates with reason TIMEOUT (until the pivot). */
  sagaTimeoutMs: number;
  /** Sends of a forward step without a definitive answer before the saga compensates. */
  maxStepAttempts: number;
  /**
   * Sends of a command that must succeed (a compensation, a step past the pivot) after which a
   * failure answer parks it (PARKED). Every send counts, answered or not: a command left
   * unanswered is sent again and never parks by itself, but a failure answer after this many
   * sends parks it at once.
   */
  parkAfterAttempts: number;
  /** Delay before re-sending: capped exponential with jitter. */
  backoff: BackoffPolicy;
}

export const DEFAULT_SAGA_POLICY: SagaPolicy = {
  stepTimeoutMs: 5_000,
  sagaTimeoutMs: 25_000,
  maxStepAttempts: 3,
  parkAfterAttempts: 10,
  backoff: { baseMs: 200, maxMs: 5_000 },
};
