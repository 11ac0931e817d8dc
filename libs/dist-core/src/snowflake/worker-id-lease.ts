import { LockLostError, QuorumUnavailableError, ResourceLockedError } from '../redlock/index.js';
import type { Lock, Redlock } from '../redlock/index.js';
import type { WorkerIdSource } from './snowflake.generator.js';
import {
  InvalidWorkerIdError,
  NoFreeWorkerIdError,
  WorkerLeaseLostError,
} from './snowflake.errors.js';
import { MAX_WORKER_ID } from './snowflake-layout.js';

/**
 * Why leased and not configured: a worker id is what keeps two processes' ids apart, and a
 * configured one is duplicated by the first copy-pasted config, scaled-up replica or restarted
 * pod that overlaps its predecessor, silently. A lease in Redis (Redlock over the independent
 * nodes of REDIS_NODES) lets any number of identical processes start at once, each holding an id
 * nobody else holds while it issues ids; Meituan Leaf does the same with ZooKeeper nodes.
 */
export interface WorkerIdLeaseOptions {
  /** Lock ttl; a crashed holder's id becomes free after this long. Default 10 s. */
  ttlMs?: number;
  /** How often the lock is extended. Default ttlMs / 3, so two renewals can fail before expiry. */
  renewEveryMs?: number;
  /**
   * Largest wall-clock difference between two machines that may lease the same id one after the
   * other. The holder stops issuing this long before its lock expires, and on release keeps the
   * lock this long instead of deleting it, so the next holder's first timestamp is after the
   * previous holder's last one even if its clock is behind by up to this much. Default 1 s.
   */
  maxClockSkewMs?: number;
  /**
   * Claim exactly this id (debugging). Default: SNOWFLAKE_WORKER_ID if set. A pinned id is
   * still leased, so a debug process can never share an id with a running service.
   */
  pinnedWorkerId?: number;
  /** Called once when the lease is lost (not when released): e.g. exit so the id is re-leased. */
  onLost?: (error: WorkerLeaseLostError) => void;
  /**
   * How many times claim() retries after QuorumUnavailableError (nodes slow or briefly down)
   * before giving up. Default 5, with 100, 200, 400… ms between attempts.
   */
  outageRetries?: number;
  /** Where the search for a free id starts; injectable for tests. */
  random?: () => number;
}

export const WORKER_ID_ENV = 'SNOWFLAKE_WORKER_ID';

export function workerResource(workerId: number): string {
  return `snowflake:worker:${workerId}`;
}

/** SNOWFLAKE_WORKER_ID, validated: undefined when unset or empty. */
export function pinnedWorkerIdFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[WORKER_ID_ENV];
  if (raw === undefined || raw === '') return undefined;
  const workerId = /^(0|[1-9][0-9]{0,3})$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(workerId >= 0 && workerId <= MAX_WORKER_ID))
    throw new InvalidWorkerIdError(raw, WORKER_ID_ENV);
  return workerId;
}

type State = 'held' | 'lost' | 'released';

/**
 * A worker id held through a Redlock lock on `snowflake:worker:<id>`, renewed in the background.
 * Pass it to `new SnowflakeGenerator(lease)`: the generator compares each id's timestamp with
 * `validUntil`, a plain number, so the lease costs no I/O per id. `validUntil` moves forward on
 * each renewal and drops to -Infinity once the lease is lost or released; it never comes back.
 */
export class WorkerIdLease implements WorkerIdSource {
  private state: State = 'held';
  private currentValidUntil: number;
  private reason: string | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private renewal: Promise<void> | undefined;

  private constructor(
    readonly workerId: number,
    private lock: Lock,
    private readonly ttlMs: number,
    private readonly renewEveryMs: number,
    private readonly maxClockSkewMs: number,
    private readonly onLost: ((error: WorkerLeaseLostError) => void) | undefined,
  ) {
    this.currentValidUntil = lock.expiresAt - maxClockSkewMs;
    this.armTimers(renewEveryMs);
  }

  /**
   * Leases a free worker id: SNOWFLAKE_WORKER_ID / pinnedWorkerId if given, otherwise the first
   * free one from a random starting point, so processes starting together rarely try the same
   * ids. Each id is tried once (retryCount 0): a held id means "try the next", not "wait".
   * Throws NoFreeWorkerIdError if all 1,024 are held, QuorumUnavailableError if Redis is down.
   */
  static async claim(redlock: Redlock, options: WorkerIdLeaseOptions = {}): Promise<WorkerIdLease> {
    const ttlMs = options.ttlMs ?? 10_000;
    const maxClockSkewMs = options.maxClockSkewMs ?? 1_000;
    const renewEveryMs = options.renewEveryMs ?? Math.floor(ttlMs / 3);
    if (!(renewEveryMs > 0 && renewEveryMs < ttlMs - maxClockSkewMs)) {
      throw new RangeError(
        `WorkerIdLease needs 0 < renewEveryMs (${renewEveryMs}) < ttlMs (${ttlMs}) - maxClockSkewMs (${maxClockSkewMs})`,
      );
    }
    const lease = (workerId: number, lock: Lock) =>
      new WorkerIdLease(workerId, lock, ttlMs, renewEveryMs, maxClockSkewMs, options.onLost);

    // "Held by another process" moves on to the next id; "no quorum answered" (a node slow or
    // restarting while services start) is retried on the same id a few times, then thrown.
    let outagesLeft = options.outageRetries ?? 5;
    const tryClaim = async (workerId: number): Promise<WorkerIdLease> => {
      for (let attempt = 0; ; attempt++) {
        try {
          const lock = await redlock.acquire([workerResource(workerId)], ttlMs, { retryCount: 0 });
          return lease(workerId, lock);
        } catch (error) {
          if (!(error instanceof QuorumUnavailableError) || outagesLeft-- <= 0) throw error;
          const delayMs = 100 * 2 ** Math.min(attempt, 4) * (0.5 + Math.random());
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
      }
    };

    const pinned = options.pinnedWorkerId ?? pinnedWorkerIdFromEnv();
    if (pinned !== undefined) {
      if (!Number.isInteger(pinned) || pinned < 0 || pinned > MAX_WORKER_ID) {
        throw new InvalidWorkerIdError(pinned, 'pinnedWorkerId');
      }
      return tryClaim(pinned);
    }

    const count = MAX_WORKER_ID + 1;
    const start = Math.floor((options.random ?? Math.random)() * count) % count;
    for (let i = 0; i < count; i++) {
      try {
        return await tryClaim((start + i) % count);
      } catch (error) {
        if (!(error instanceof ResourceLockedError)) throw error;
      }
    }
    throw new NoFreeWorkerIdError(count);
  }

  /** Unix ms; the generator refuses ids stamped at or after it. */
  get validUntil(): number {
    return this.currentValidUntil;
  }

  get lostReason(): string | undefined {
    return this.reason;
  }

  get isValid(): boolean {
    return Date.now() < this.currentValidUntil;
  }

  /**
   * Stops issuing at once and hands the id back. The lock is shortened to maxClockSkewMs rather
   * than deleted: the next holder, whose clock may be behind ours, then starts after our last id.
   */
  async release(): Promise<void> {
    if (this.state !== 'held') return;
    this.stop('released', 'released');
    // A renewal still in flight would otherwise land after the shortening and put the full ttl back.
    await this.renewal;
    try {
      await this.lock.extend(Math.max(this.maxClockSkewMs, 10));
    } catch (error) {
      if (error instanceof LockLostError) return; // already gone: nothing to hand back
      throw error;
    }
  }

  private armTimers(renewInMs: number): void {
    clearTimeout(this.renewTimer);
    clearTimeout(this.expiryTimer);
    // Timers run on the monotonic clock: if the wall clock jumps back, validUntil (wall clock)
    // would look valid for longer than the lock is; the expiry timer still fires on time.
    this.renewTimer = setTimeout(() => this.startRenewal(), renewInMs).unref();
    this.expiryTimer = setTimeout(
      () => this.lose('not renewed before it expired'),
      Math.max(0, this.currentValidUntil - Date.now()),
    ).unref();
  }

  private startRenewal(): void {
    this.renewal = this.renew().finally(() => (this.renewal = undefined));
  }

  private async renew(): Promise<void> {
    if (this.state !== 'held') return;
    // A renewal that runs late (event loop blocked past validUntil) must not revive the lease:
    // the generator has already refused ids, and a lease that comes back would make "lost" mean
    // "lost for a while". Checked before and after the round trip.
    if (Date.now() >= this.currentValidUntil) return this.lose('not renewed before it expired');
    try {
      const next = await this.lock.extend(this.ttlMs);
      if (this.state !== 'held') return;
      if (Date.now() >= this.currentValidUntil) return this.lose('renewed after it expired');
      this.lock = next;
      this.currentValidUntil = next.expiresAt - this.maxClockSkewMs;
      this.armTimers(this.renewEveryMs);
    } catch (error) {
      if (this.state !== 'held') return;
      if (error instanceof QuorumUnavailableError) {
        // An outage, not a refusal: the lock may still be ours. Retry while it is valid; the
        // expiry timer (and the generator's own check) end the lease if no retry succeeds.
        const remaining = this.currentValidUntil - Date.now();
        if (remaining > 0) {
          clearTimeout(this.renewTimer);
          this.renewTimer = setTimeout(
            () => this.startRenewal(),
            Math.max(1, remaining / 4),
          ).unref();
          return;
        }
      }
      this.lose(`renewal failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private lose(reason: string): void {
    if (this.state !== 'held') return;
    this.stop('lost', reason);
    this.onLost?.(new WorkerLeaseLostError(this.workerId, reason));
  }

  private stop(state: State, reason: string): void {
    this.state = state;
    this.reason = reason;
    this.currentValidUntil = Number.NEGATIVE_INFINITY;
    clearTimeout(this.renewTimer);
    clearTimeout(this.expiryTimer);
  }
}
