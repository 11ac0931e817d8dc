/**
 * The arithmetic of the Redlock algorithm, kept free of I/O so it can be tested exactly.
 * See README.md in this folder for why each rule exists.
 */

/** N/2+1: any two sets of this size out of N intersect, so two holders cannot both have one. */
export function quorumSize(nodeCount: number): number {
  return Math.floor(nodeCount / 2) + 1;
}

/**
 * Clock drift allowance: the nodes' and our clocks may run at slightly different rates over the
 * ttl (driftFactor, 1 % by default), and Redis expires keys with 1 ms precision (the + 2 ms).
 */
export function clockDriftMs(ttlMs: number, driftFactor: number): number {
  return ttlMs * driftFactor + 2;
}

/**
 * How long a lock is still safe to use after the quorum answered `elapsedMs` after the first
 * request was sent. The keys were set no earlier than that first send, so they expire no earlier
 * than ttl after it; minus the drift, the lock is ours for this long. ≤ 0 means: not held.
 */
export function validityMs(ttlMs: number, elapsedMs: number, driftFactor: number): number {
  return ttlMs - elapsedMs - clockDriftMs(ttlMs, driftFactor);
}

/**
 * The wait before the next attempt: `delay ± jitter`, uniformly, never negative. The jitter
 * de-synchronises contenders that failed together, so they do not split the nodes again.
 */
export function retryDelayMs(
  delayMs: number,
  jitterMs: number,
  random: () => number = Math.random,
): number {
  return Math.max(0, delayMs + (random() * 2 - 1) * jitterMs);
}

/** One node's answer to a request, as far as the quorum rules care. */
export type Vote = 'granted' | 'refused' | 'failed' | 'pending';

export interface Tally {
  granted: number;
  refused: number;
  failed: number;
  pending: number;
}

export function tally(votes: readonly Vote[]): Tally {
  const counts: Tally = { granted: 0, refused: 0, failed: 0, pending: 0 };
  for (const vote of votes) counts[vote]++;
  return counts;
}

/**
 * Whether the outcome is already known, so the caller can stop waiting for slower nodes: either a
 * quorum granted, or so many refused or failed that the rest cannot make a quorum any more.
 */
export function isDecided(counts: Tally, nodeCount: number): boolean {
  const quorum = quorumSize(nodeCount);
  return counts.granted >= quorum || counts.refused + counts.failed > nodeCount - quorum;
}

export type AttemptFailure = 'locked' | 'unavailable';

/**
 * Why an attempt without a quorum failed. If failures alone (errors, timeouts) leave too few nodes
 * for a quorum, the cluster is unavailable and retrying in a loop would only stall the caller;
 * otherwise a reachable node refused because the resource is held, and a retry may succeed.
 */
export function failureKind(counts: Tally, nodeCount: number): AttemptFailure {
  return counts.failed > nodeCount - quorumSize(nodeCount) ? 'unavailable' : 'locked';
}

/** The largest fence among the granting nodes' counters. */
export function maxFence(counters: readonly bigint[]): bigint {
  if (counters.length === 0) throw new RangeError('maxFence of no counters');
  let max = counters[0];
  for (const counter of counters) if (counter > max) max = counter;
  return max;
}
