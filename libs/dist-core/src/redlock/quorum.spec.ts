import { describe, expect, it } from '@jest/globals';
import {
  clockDriftMs,
  failureKind,
  isDecided,
  maxFence,
  quorumSize,
  retryDelayMs,
  tally,
  validityMs,
  type Vote,
} from './quorum.js';

describe('quorumSize', () => {
  it('is a strict majority, so any two quorums share a node', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(quorumSize)).toEqual([1, 2, 2, 3, 3, 4, 4]);
    for (let n = 1; n <= 9; n++) expect(2 * quorumSize(n)).toBeGreaterThan(n);
  });
});

describe('validity', () => {
  it('allows 1 % of the ttl plus 2 ms of drift', () => {
    expect(clockDriftMs(10_000, 0.01)).toBe(102);
    expect(clockDriftMs(1000, 0)).toBe(2);
  });

  it('is ttl − elapsed − drift', () => {
    expect(validityMs(10_000, 30, 0.01)).toBe(9868);
    expect(validityMs(1000, 0, 0.01)).toBe(988);
  });

  it('is ≤ 0 once the quorum answered too late to be of use', () => {
    expect(validityMs(1000, 988, 0.01)).toBe(0);
    expect(validityMs(1000, 1500, 0.01)).toBeLessThan(0);
    expect(validityMs(2, 0, 0.01)).toBeLessThan(0);
  });
});

describe('retryDelayMs', () => {
  it('stays within delay ± jitter', () => {
    expect(retryDelayMs(200, 100, () => 0)).toBe(100);
    expect(retryDelayMs(200, 100, () => 0.5)).toBe(200);
    expect(retryDelayMs(200, 100, () => 0.999999)).toBeCloseTo(300, 3);
    for (let i = 0; i < 10_000; i++) {
      const delay = retryDelayMs(200, 100);
      expect(delay).toBeGreaterThanOrEqual(100);
      expect(delay).toBeLessThanOrEqual(300);
    }
  });

  it('never goes negative when the jitter exceeds the delay', () => {
    expect(retryDelayMs(10, 50, () => 0)).toBe(0);
  });

  it('spreads contenders out rather than giving them all the same delay', () => {
    const delays = new Set(Array.from({ length: 100 }, () => Math.round(retryDelayMs(200, 100))));
    expect(delays.size).toBeGreaterThan(50);
  });
});

describe('deciding an attempt', () => {
  const counts = (...votes: Vote[]) => tally(votes);

  it('is decided as soon as a quorum granted, without the stalled node', () => {
    expect(isDecided(counts('granted', 'granted', 'pending'), 3)).toBe(true);
    expect(isDecided(counts('granted', 'pending', 'pending'), 3)).toBe(false);
    expect(isDecided(counts('granted', 'granted', 'pending', 'pending', 'pending'), 5)).toBe(false);
    expect(isDecided(counts('granted', 'granted', 'granted', 'pending', 'pending'), 5)).toBe(true);
  });

  it('is decided as soon as a quorum can no longer be reached', () => {
    expect(isDecided(counts('refused', 'failed', 'pending'), 3)).toBe(true);
    expect(isDecided(counts('granted', 'refused', 'pending'), 3)).toBe(false);
  });

  it('tells "held by someone" apart from "too few nodes answered"', () => {
    expect(failureKind(counts('refused', 'refused', 'granted'), 3)).toBe('locked');
    expect(failureKind(counts('refused', 'failed', 'pending'), 3)).toBe('locked');
    expect(failureKind(counts('failed', 'failed', 'granted'), 3)).toBe('unavailable');
    expect(failureKind(counts('failed', 'failed', 'pending'), 3)).toBe('unavailable');
  });
});

describe('maxFence', () => {
  it('is exact beyond 2^53', () => {
    expect(maxFence([9007199254740992n, 9007199254740993n, 17n])).toBe(9007199254740993n);
  });

  it('refuses an empty quorum', () => {
    expect(() => maxFence([])).toThrow(RangeError);
  });
});
