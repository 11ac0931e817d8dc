import { describe, expect, it } from '@jest/globals';
import { decodeSnowflakeId, isSnowflakeId } from './snowflake-id.js';
import {
  ClockMovedBackwardsError,
  ClockOutOfRangeError,
  InvalidWorkerIdError,
  WorkerLeaseLostError,
} from './snowflake.errors.js';
import { SnowflakeGenerator, type Clock, type WorkerIdSource } from './snowflake.generator.js';
import { LAST_ISSUABLE_MS, SNOWFLAKE_EPOCH_MS } from './snowflake-layout.js';

const T = Date.UTC(2026, 10, 27, 12, 0, 0, 0);

/** A clock the test moves by hand; `afterReads` lets it move while the generator spins. */
class ManualClock implements Clock {
  reads = 0;
  private scheduled: { atRead: number; ms: number }[] = [];
  constructor(public ms: number) {}

  now(): number {
    this.reads++;
    while (this.scheduled.length > 0 && this.reads >= this.scheduled[0].atRead) {
      this.ms = this.scheduled.shift()!.ms;
    }
    if (this.reads > 10_000_000) throw new Error('generator spun on a clock that never moved');
    return this.ms;
  }

  /** Sets the clock to `ms` once `n` more reads have happened. */
  afterReads(n: number, ms: number): void {
    this.scheduled.push({ atRead: this.reads + n, ms });
    this.scheduled.sort((a, b) => a.atRead - b.atRead);
  }
}

function expectStrictlyIncreasing(ids: string[]): void {
  for (let i = 1; i < ids.length; i++) {
    if (!(BigInt(ids[i]) > BigInt(ids[i - 1]))) {
      throw new Error(`id #${i} ${ids[i]} is not above #${i - 1} ${ids[i - 1]}`);
    }
  }
}

describe('SnowflakeGenerator', () => {
  it('issues strictly increasing canonical decimal ids from the system clock', () => {
    const generator = new SnowflakeGenerator(42);
    const ids = Array.from({ length: 200_000 }, () => generator.nextId());
    expect(ids.every((id) => isSnowflakeId(id))).toBe(true);
    expectStrictlyIncreasing(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(decodeSnowflakeId(ids[0]).workerId).toBe(42);
  });

  it('issues ids above 2^53 today, and the epoch leaves 60+ years of ids', () => {
    const id = new SnowflakeGenerator(0).nextId();
    expect(BigInt(id)).toBeGreaterThan(2n ** 53n);
    expect(Number.isSafeInteger(Number(id))).toBe(false);
    const yearsLeft = (LAST_ISSUABLE_MS - Date.now()) / (365.25 * 24 * 3600 * 1000);
    expect(yearsLeft).toBeGreaterThan(60);
  });

  it('stamps the clock, the worker and a per-millisecond sequence starting at 0', () => {
    const clock = new ManualClock(T);
    const generator = new SnowflakeGenerator(1023, { clock });
    const first = decodeSnowflakeId(generator.nextId());
    const second = decodeSnowflakeId(generator.nextId());
    clock.ms = T + 1;
    const third = decodeSnowflakeId(generator.nextId());
    expect([first, second, third].map((d) => [d.timestampMs, d.workerId, d.sequence])).toEqual([
      [T, 1023, 0],
      [T, 1023, 1],
      [T + 1, 1023, 0],
    ]);
  });

  it('waits for the next millisecond after 4,096 ids instead of wrapping the sequence', () => {
    const clock = new ManualClock(T);
    const generator = new SnowflakeGenerator(7, { clock });
    const ids = Array.from({ length: 4096 }, () => generator.nextId());
    // The 4,097th id finds the millisecond used up; the clock moves only after 500 more reads.
    clock.afterReads(500, T + 1);
    const readsBefore = clock.reads;
    ids.push(...Array.from({ length: 3000 }, () => generator.nextId()));

    expect(clock.reads - readsBefore).toBeGreaterThanOrEqual(500);
    expect(new Set(ids).size).toBe(ids.length);
    expectStrictlyIncreasing(ids);
    const decoded = ids.map((id) => decodeSnowflakeId(id));
    expect(decoded[4095]).toMatchObject({ timestampMs: T, sequence: 4095 });
    expect(decoded[4096]).toMatchObject({ timestampMs: T + 1, sequence: 0 });
    expect(decoded.filter((d) => d.timestampMs === T)).toHaveLength(4096);
  });

  it('waits out a backward step of up to 5 ms and continues the sequence, never resetting it', () => {
    const clock = new ManualClock(T);
    const generator = new SnowflakeGenerator(3, { clock });
    const before = [generator.nextId(), generator.nextId()];
    clock.ms = T - 5;
    clock.afterReads(200, T); // back to T: the same millisecond as the last id
    const after = [generator.nextId(), generator.nextId()];

    expect(clock.reads).toBeGreaterThanOrEqual(202);
    expect(after.map((id) => decodeSnowflakeId(id))).toMatchObject([
      { timestampMs: T, sequence: 2 },
      { timestampMs: T, sequence: 3 },
    ]);
    expectStrictlyIncreasing([...before, ...after]);
  });

  it('refuses a backward step over 5 ms with a typed error and issues nothing until caught up', () => {
    const clock = new ManualClock(T);
    const generator = new SnowflakeGenerator(3, { clock });
    const last = generator.nextId();

    clock.ms = T - 6;
    let error: unknown;
    try {
      generator.nextId();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ClockMovedBackwardsError);
    expect(error).toMatchObject({ lastTimestampMs: T, nowMs: T - 6, driftMs: 6 });

    clock.ms = T - 1000;
    expect(() => generator.nextId()).toThrow(ClockMovedBackwardsError);
    clock.ms = T - 6;
    expect(() => generator.nextId()).toThrow(ClockMovedBackwardsError);

    // Within 5 ms again: waited out, then issuing resumes after the last id.
    clock.ms = T - 3;
    clock.afterReads(50, T);
    const next = generator.nextId();
    expect(decodeSnowflakeId(next)).toMatchObject({ timestampMs: T, sequence: 1 });
    expect(BigInt(next)).toBeGreaterThan(BigInt(last));
  });

  it('throws if the clock jumps back more than 5 ms while it waits for the next millisecond', () => {
    const clock = new ManualClock(T);
    const generator = new SnowflakeGenerator(3, { clock });
    for (let i = 0; i < 4096; i++) generator.nextId();
    clock.afterReads(20, T - 60_000);
    expect(() => generator.nextId()).toThrow(ClockMovedBackwardsError);
  });

  it('stops issuing once its worker id lease is no longer valid', () => {
    const clock = new ManualClock(T);
    const lease: { workerId: number; validUntil: number; lostReason?: string } = {
      workerId: 9,
      validUntil: T + 10,
    };
    const generator = new SnowflakeGenerator(lease satisfies WorkerIdSource, { clock });
    expect(generator.nextId()).toBeDefined();
    clock.ms = T + 9;
    expect(generator.nextId()).toBeDefined();
    expect(generator.nextId()).toBeDefined();

    clock.ms = T + 10;
    expect(() => generator.nextId()).toThrow(WorkerLeaseLostError);

    // Lost within the millisecond of the last id (a renewal failed): the fast path refuses too.
    const lostLater: { workerId: number; validUntil: number; lostReason?: string } = {
      workerId: 11,
      validUntil: T + 100,
    };
    const sameMs = new SnowflakeGenerator(lostLater, { clock });
    sameMs.nextId();
    lostLater.validUntil = Number.NEGATIVE_INFINITY;
    lostLater.lostReason = 'renewal failed: quorum unavailable';
    expect(() => sameMs.nextId()).toThrow(/worker id 11 .*renewal failed: quorum unavailable/);
  });

  it.each([[-1], [1024], [1.5], [Number.NaN]])('rejects worker id %p', (workerId) => {
    expect(() => new SnowflakeGenerator(workerId)).toThrow(InvalidWorkerIdError);
  });

  it('accepts worker ids 0 and 1023', () => {
    expect(decodeSnowflakeId(new SnowflakeGenerator(0).nextId()).workerId).toBe(0);
    expect(decodeSnowflakeId(new SnowflakeGenerator(1023).nextId()).workerId).toBe(1023);
  });

  it('refuses a clock outside the range the 41 bits can encode', () => {
    expect(() =>
      new SnowflakeGenerator(1, { clock: new ManualClock(SNOWFLAKE_EPOCH_MS - 1) }).nextId(),
    ).toThrow(ClockOutOfRangeError);
    expect(() =>
      new SnowflakeGenerator(1, { clock: new ManualClock(LAST_ISSUABLE_MS + 1) }).nextId(),
    ).toThrow(ClockOutOfRangeError);
  });
});
