import { DecimalIdFormatter } from './decimal-id-formatter.js';
import type { SnowflakeId } from './snowflake-id.js';
import {
  ClockMovedBackwardsError,
  ClockOutOfRangeError,
  InvalidWorkerIdError,
  WorkerLeaseLostError,
} from './snowflake.errors.js';
import {
  LAST_ISSUABLE_MS,
  MAX_SEQUENCE,
  SNOWFLAKE_EPOCH_MS,
  TIMESTAMP_SHIFT,
  WORKER_ID_SHIFT,
  isValidWorkerId,
} from './snowflake-layout.js';

/** Unix milliseconds. Injectable so tests can step time backwards and freeze it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Where the worker id comes from. A lease (WorkerIdLease) sets `validUntil` to its lock's expiry
 * and to -Infinity once lost; the generator compares it with the clock on every id, which is a
 * property read and a comparison, never I/O.
 */
export interface WorkerIdSource {
  readonly workerId: number;
  /** Unix ms; ids stamped at or after it are refused. */
  readonly validUntil: number;
  /** Why the source stopped being valid, for the error message. */
  readonly lostReason?: string;
}

export interface SnowflakeGeneratorOptions {
  clock?: Clock;
  /**
   * A backward clock step up to this many ms (NTP slewing, a VM pause) is waited out by spinning;
   * a larger one throws ClockMovedBackwardsError. Default 5, as Meituan Leaf.
   */
  maxBackwardWaitMs?: number;
}

/** A fixed worker id that never expires: tests, benchmarks, single-process tools. */
export function fixedWorkerId(workerId: number): WorkerIdSource {
  if (!isValidWorkerId(workerId)) throw new InvalidWorkerIdError(workerId);
  return { workerId, validUntil: Number.POSITIVE_INFINITY };
}

/**
 * Issues Snowflake ids for one worker id, strictly increasing, as decimal strings.
 *
 * Synchronous on purpose: an id is needed inside request handlers and transactions, and the
 * only waits (the rest of a millisecond when its 4,096 ids are used, or a backward clock step of
 * at most 5 ms) are shorter than an event-loop turn would be.
 */
export class SnowflakeGenerator {
  readonly workerId: number;
  private readonly worker: WorkerIdSource;
  private readonly clock: Clock;
  private readonly maxBackwardWaitMs: number;
  private readonly formatter = new DecimalIdFormatter();
  private readonly workerBits: bigint;
  /** Timestamp (Unix ms) of the last id issued; every later id carries this or a later one. */
  private lastTimestampMs = Number.NEGATIVE_INFINITY;
  private sequence = 0;

  constructor(worker: number | WorkerIdSource, options: SnowflakeGeneratorOptions = {}) {
    this.worker = typeof worker === 'number' ? fixedWorkerId(worker) : worker;
    if (!isValidWorkerId(this.worker.workerId))
      throw new InvalidWorkerIdError(this.worker.workerId);
    this.workerId = this.worker.workerId;
    this.workerBits = BigInt(this.workerId) << BigInt(WORKER_ID_SHIFT);
    this.clock = options.clock ?? systemClock;
    this.maxBackwardWaitMs = options.maxBackwardWaitMs ?? 5;
  }

  nextId(): SnowflakeId {
    const now = this.clock.now();
    // Fast path: same millisecond, sequence left, lease valid.
    if (now === this.lastTimestampMs && this.sequence < MAX_SEQUENCE) {
      if (now >= this.worker.validUntil) throw this.leaseLost();
      return this.formatter.format(++this.sequence);
    }
    return this.nextIdSlow(now);
  }

  private nextIdSlow(now: number): SnowflakeId {
    for (;;) {
      if (now > this.lastTimestampMs) {
        if (now >= this.worker.validUntil) throw this.leaseLost();
        if (now < SNOWFLAKE_EPOCH_MS || now > LAST_ISSUABLE_MS) throw new ClockOutOfRangeError(now);
        this.formatter.setHigh(
          (BigInt(now - SNOWFLAKE_EPOCH_MS) << BigInt(TIMESTAMP_SHIFT)) | this.workerBits,
        );
        this.lastTimestampMs = now;
        this.sequence = 0;
        return this.formatter.format(0);
      }
      // The backward check comes before anything touches the sequence: resetting it for a
      // timestamp already used is how Twitter's original issued duplicates (twitter-archive/snowflake#6).
      if (now < this.lastTimestampMs - this.maxBackwardWaitMs) {
        throw new ClockMovedBackwardsError(this.lastTimestampMs, now);
      }
      if (now === this.lastTimestampMs && this.sequence < MAX_SEQUENCE) {
        if (now >= this.worker.validUntil) throw this.leaseLost();
        return this.formatter.format(++this.sequence);
      }
      // Either this millisecond's 4,096 ids are used up or the clock is at most
      // maxBackwardWaitMs behind the last id: spin until it passes. Never wrap the sequence
      // instead: a wrapped sequence within the same millisecond reissues the ids it started with,
      // which is exactly where @sapphire/snowflake and snowflake-id produce duplicates.
      now = this.clock.now();
    }
  }

  private leaseLost(): WorkerLeaseLostError {
    return new WorkerLeaseLostError(this.workerId, this.worker.lostReason ?? 'lease expired');
  }
}
