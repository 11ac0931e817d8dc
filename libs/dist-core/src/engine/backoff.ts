/** Re-sends of a command: capped exponential backoff with equal jitter. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay after send `attempt` (1-based): baseMs·2^(attempt−1), capped at maxMs, then "equal
 * jitter" (half fixed, half random) so flows that failed together do not retry in lockstep, yet
 * no retry comes back at once.
 */
export function backoffDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number,
): number {
  const capped = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(capped / 2 + random() * (capped / 2));
}
