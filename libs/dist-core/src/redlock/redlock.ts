import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { observeAcquire } from './acquire-metrics.js';
import { closeRedisClients } from './clients.js';
import {
  LockLostError,
  QuorumUnavailableError,
  RedlockError,
  ResourceLockedError,
} from './errors.js';
import { callNodes, unreachableCount, type NodeReply } from './node-calls.js';
import {
  clockDriftMs,
  failureKind,
  isDecided,
  maxFence,
  quorumSize,
  retryDelayMs,
  validityMs,
  type Vote,
} from './quorum.js';
import {
  ACQUIRE,
  EXTEND,
  RAISE_FENCE,
  RELEASE,
  evalScript,
  fenceKey,
  fenceOf,
  lockKey,
} from './scripts.js';

export interface RedlockOptions {
  /** Further attempts after the first when a resource is held (default 10). */
  retryCount?: number;
  /** Mean wait between attempts (default 200 ms). */
  retryDelayMs?: number;
  /** The wait varies uniformly by ± this much (default 100 ms). */
  retryJitterMs?: number;
  /** How long one operation waits for a node before counting it as failed (default 50 ms). */
  nodeTimeoutMs?: number;
  /** Share of the ttl allowed for clock-rate differences (default 0.01). */
  driftFactor?: number;
}

export interface AcquireOptions {
  /** Overrides RedlockOptions.retryCount for this call; 0 means "try once". */
  retryCount?: number;
}

/** A held lock. `fence` orders every holder of a resource; hand it to what the lock protects. */
export interface Lock {
  readonly resources: string[];
  /** The random token that marks this holder's keys on every node. */
  readonly value: string;
  /** Larger than the fence of every earlier holder of any of these resources. */
  readonly fence: bigint;
  /** Epoch ms after which the lock must be assumed lost (ttl − elapsed − drift from the start). */
  readonly expiresAt: number;
  extend(ttlMs: number): Promise<Lock>;
  release(): Promise<void>;
}

const DEFAULT_OPTIONS: Required<RedlockOptions> = {
  retryCount: 10,
  retryDelayMs: 200,
  retryJitterMs: 100,
  nodeTimeoutMs: 50,
  driftFactor: 0.01,
};

type Attempt =
  | { readonly acquired: true; readonly lock: HeldLock }
  | { readonly acquired: false; readonly retryable: boolean; readonly error: RedlockError };

/**
 * Redlock (the Redis specification, "Distributed locks with Redis") over N independent masters,
 * with fencing tokens. README.md in this folder explains the safety argument.
 */
export class Redlock {
  private readonly clients: readonly Redis[];
  private readonly quorum: number;
  private readonly options: Required<RedlockOptions>;

  constructor(clients: Redis[], options: RedlockOptions = {}) {
    if (clients.length === 0) throw new RangeError('Redlock needs at least one Redis client');
    if (new Set(clients).size !== clients.length) {
      throw new RangeError(
        'Redlock clients must be distinct: each stands for one independent node',
      );
    }
    this.clients = [...clients];
    this.quorum = quorumSize(clients.length);
    this.options = { ...DEFAULT_OPTIONS };
    for (const [name, value] of Object.entries(options) as [keyof RedlockOptions, unknown][]) {
      if (value === undefined) continue;
      if (typeof value !== 'number' || !(value >= 0)) {
        throw new RangeError(`Redlock option ${name} must be a non-negative number`);
      }
      this.options[name] = value;
    }
    if (this.options.nodeTimeoutMs === 0) throw new RangeError('Redlock nodeTimeoutMs must be > 0');
  }

  /**
   * Throws ResourceLockedError when still held elsewhere after the retries, QuorumUnavailableError
   * when a majority cannot answer: at once if its nodes are down, after the retries if they only
   * timed out.
   */
  async acquire(resources: string[], ttlMs: number, options: AcquireOptions = {}): Promise<Lock> {
    const started = performance.now();
    try {
      const lock = await this.acquireWithRetries(resources, ttlMs, options);
      observeAcquire(started, performance.now());
      return lock;
    } catch (error) {
      observeAcquire(started, performance.now(), error);
      throw error;
    }
  }

  private async acquireWithRetries(
    resources: string[],
    ttlMs: number,
    options: AcquireOptions,
  ): Promise<Lock> {
    this.checkRequest(resources, ttlMs);
    const retryCount = options.retryCount ?? this.options.retryCount;
    const owned = [...resources];
    for (let attempt = 0; ; attempt++) {
      const result = await this.attemptAcquire(owned, ttlMs);
      if (result.acquired) return result.lock;
      if (!result.retryable || attempt >= retryCount) throw result.error;
      await sleep(retryDelayMs(this.options.retryDelayMs, this.options.retryJitterMs));
    }
  }

  /**
   * Runs `fn` under the lock, extending it while `fn` runs (each time half its validity is left).
   * `signal` aborts with a LockLostError as soon as the lock can no longer be trusted: an
   * extension was refused, or none succeeded before the validity ran out. If that happened,
   * `using` rejects with that error even when `fn` resolved, because exclusion was not guaranteed.
   * The lock is released afterwards; a failed release is left to the ttl.
   */
  async using<T>(
    resources: string[],
    ttlMs: number,
    fn: (signal: AbortSignal, lock: Lock) => Promise<T>,
  ): Promise<T> {
    let current = (await this.acquire(resources, ttlMs)) as HeldLock;
    const controller = new AbortController();
    let finished = false;
    let renewTimer: NodeJS.Timeout | undefined;
    let lossTimer: NodeJS.Timeout | undefined;

    const lose = (error: LockLostError) => {
      clearTimeout(renewTimer);
      clearTimeout(lossTimer);
      if (!controller.signal.aborted) controller.abort(error);
    };
    const adopt = (next: HeldLock) => {
      current = next;
      clearTimeout(renewTimer);
      clearTimeout(lossTimer);
      const remaining = current.remainingMs();
      lossTimer = setTimeout(
        () => lose(new LockLostError(resources, 'not extended before its validity ran out')),
        remaining,
      );
      renewTimer = setTimeout(renew, remaining / 2);
    };
    const renew = async () => {
      try {
        const next = (await this.extend(current, ttlMs)) as HeldLock;
        if (!finished && !controller.signal.aborted) adopt(next);
      } catch (error) {
        if (finished || controller.signal.aborted) return;
        if (error instanceof LockLostError) return lose(error);
        // No quorum answered this time; try again while the lock is valid (the loss timer
        // aborts if no attempt succeeds in time).
        renewTimer = setTimeout(renew, Math.max(1, current.remainingMs() / 2));
      }
    };
    adopt(current);

    // The lock fn sees follows the extensions, so its expiresAt stays true.
    const view: Lock = {
      get resources() {
        return current.resources;
      },
      get value() {
        return current.value;
      },
      get fence() {
        return current.fence;
      },
      get expiresAt() {
        return current.expiresAt;
      },
      extend: async (extendTtlMs) => {
        adopt((await current.extend(extendTtlMs)) as HeldLock);
        return view;
      },
      release: () => current.release(),
    };

    try {
      const result = await fn(controller.signal, view);
      if (controller.signal.aborted) throw controller.signal.reason;
      return result;
    } finally {
      finished = true;
      clearTimeout(renewTimer);
      clearTimeout(lossTimer);
      await this.release(current).catch(() => undefined);
    }
  }

  /**
   * Compare-and-delete on every node; resolves once a quorum has answered (the rest follow in
   * the background). Throws QuorumUnavailableError if no quorum answers: the ttl then frees it.
   */
  async release(lock: Lock): Promise<void> {
    const keys = lock.resources.map(lockKey);
    const args = [lock.value];
    // Compare-and-delete is idempotent, so one more attempt after timeouts is safe.
    for (let attempt = 0; ; attempt++) {
      const { replies, votes } = await callNodes({
        clients: this.clients,
        timeoutMs: this.options.nodeTimeoutMs,
        call: (client) => evalScript(client, RELEASE, keys, args),
        vote: answeredVote,
        decided: (votes) => votes.granted >= this.quorum,
      });
      if (votes.granted >= this.quorum) return;
      if (attempt >= 1 || unreachableCount(replies) > this.clients.length - this.quorum) {
        throw new QuorumUnavailableError(lock.resources, 'release not confirmed by a quorum');
      }
    }
  }

  /**
   * Compare-and-pexpire on every node. Keeps value and fence: a quorum still holding the token
   * proves nobody else held the lock in between. Throws LockLostError if it expired or a quorum
   * no longer has it, QuorumUnavailableError if too few nodes answered.
   */
  async extend(lock: Lock, ttlMs: number): Promise<Lock> {
    this.checkRequest(lock.resources, ttlMs);
    const remaining = lock instanceof HeldLock ? lock.remainingMs() : lock.expiresAt - Date.now();
    if (remaining <= 0) throw new LockLostError(lock.resources, 'expired before it was extended');

    const startedAt = Date.now();
    const start = performance.now();
    const keys = lock.resources.map(lockKey);
    const { votes: counts } = await callNodes({
      clients: this.clients,
      timeoutMs: this.options.nodeTimeoutMs,
      call: (client) => evalScript(client, EXTEND, keys, [lock.value, ttlMs]),
      vote: oneMeansGranted,
      decided: (votes) => isDecided(votes, this.clients.length),
    });
    if (counts.granted < this.quorum) {
      if (failureKind(counts, this.clients.length) === 'unavailable') {
        throw new QuorumUnavailableError(
          lock.resources,
          `extension: ${counts.failed} nodes failed`,
        );
      }
      throw new LockLostError(lock.resources, 'a majority of nodes no longer hold it');
    }
    if (validityMs(ttlMs, performance.now() - start, this.options.driftFactor) <= 0) {
      throw new LockLostError(lock.resources, 'the extension was confirmed after its own ttl');
    }
    const lifetime = ttlMs - clockDriftMs(ttlMs, this.options.driftFactor);
    return new HeldLock(
      this,
      lock.resources,
      lock.value,
      lock.fence,
      startedAt + lifetime,
      start + lifetime,
    );
  }

  /** Closes the clients it was given. */
  async quit(): Promise<void> {
    await closeRedisClients(this.clients);
  }

  private async attemptAcquire(resources: string[], ttlMs: number): Promise<Attempt> {
    const lockKeys = resources.map(lockKey);
    const keys = [...lockKeys, ...resources.map(fenceKey)];
    const token = randomToken();
    const startedAt = Date.now();
    const start = performance.now();
    const nodeCount = this.clients.length;

    // Grants that arrive after the quorum decided (a slow node catching up): once the fence is
    // known, raise their counters to it in the background, so the nodes stay in step and the
    // next acquisition needs no raise.
    const lateGrants: [number, bigint][] = [];
    let raiseLate: ((index: number, counter: bigint) => void) | undefined = undefined;
    const { replies, votes } = await callNodes({
      clients: this.clients,
      timeoutMs: this.options.nodeTimeoutMs,
      call: (client) => evalScript(client, ACQUIRE, keys, [token, ttlMs, resources.length]),
      vote: acquireVote,
      decided: (votes) => isDecided(votes, nodeCount),
      onLateReply: (index, reply) => {
        const counter = reply.state === 'answered' ? fenceOf(reply.value) : null;
        if (counter === null) return;
        if (raiseLate) raiseLate(index, counter);
        else lateGrants.push([index, counter]);
      },
    });

    if (votes.granted < this.quorum) {
      this.releaseEverywhere(lockKeys, token);
      if (failureKind(votes, nodeCount) === 'locked') {
        return { acquired: false, retryable: true, error: new ResourceLockedError(resources) };
      }
      // If the nodes that are down (refused at once, not merely slow) leave no quorum, fail now
      // rather than spend the retries on them; timeouts may be load or a pause, worth a retry.
      const error = new QuorumUnavailableError(
        resources,
        `${votes.failed} of ${nodeCount} nodes failed`,
      );
      return {
        acquired: false,
        retryable: unreachableCount(replies) <= nodeCount - this.quorum,
        error,
      };
    }

    const counters = replies.map((reply) =>
      reply.state === 'answered' ? fenceOf(reply.value) : null,
    );
    const fence = maxFence(counters.filter((counter): counter is bigint => counter !== null));
    if (!(await this.fenceHeldByQuorum(counters, fence, keys, token, resources.length))) {
      this.releaseEverywhere(lockKeys, token);
      const error = new QuorumUnavailableError(
        resources,
        'fence not confirmed by a quorum in time',
      );
      return { acquired: false, retryable: true, error };
    }

    // A lock whose validity is already gone is never handed out (npm redlock 5 beta does,
    // its issues #296/#283): by the time the caller used it another holder could have it.
    if (validityMs(ttlMs, performance.now() - start, this.options.driftFactor) <= 0) {
      this.releaseEverywhere(lockKeys, token);
      const error = new QuorumUnavailableError(
        resources,
        `quorum answered after the ${ttlMs} ms ttl`,
      );
      return { acquired: false, retryable: true, error };
    }

    raiseLate = (index, counter) => {
      if (counter >= fence) return;
      const args = [token, fence.toString(), resources.length];
      evalScript(this.clients[index], RAISE_FENCE, keys, args).catch(() => undefined);
    };
    for (const [index, counter] of lateGrants) raiseLate(index, counter);

    const lifetime = ttlMs - clockDriftMs(ttlMs, this.options.driftFactor);
    return {
      acquired: true,
      lock: new HeldLock(this, resources, token, fence, startedAt + lifetime, start + lifetime),
    };
  }

  /**
   * Makes the fence safe to hand out: a quorum of the nodes that granted this lock must have a
   * counter ≥ fence before anyone uses it. Any later holder's quorum shares a node with this one,
   * and that node's counter only grows, so the later fence is larger (README.md, "Fencing").
   * Usually every granting node returned the same counter and nothing needs to be sent.
   */
  private fenceHeldByQuorum(
    counters: readonly (bigint | null)[],
    fence: bigint,
    keys: readonly string[],
    token: string,
    resourceCount: number,
  ): boolean | Promise<boolean> {
    const behind: Redis[] = [];
    let atFence = 0;
    counters.forEach((counter, index) => {
      if (counter === null) return;
      if (counter === fence) atFence++;
      else behind.push(this.clients[index]);
    });
    if (atFence >= this.quorum) return true;
    const raise = callNodes({
      clients: behind,
      timeoutMs: this.options.nodeTimeoutMs,
      call: (client) =>
        evalScript(client, RAISE_FENCE, keys, [token, fence.toString(), resourceCount]),
      // 1: raised, and this node still holds the lock for the token.
      vote: oneMeansGranted,
      decided: (votes) => atFence + votes.granted >= this.quorum,
    });
    return raise.then(({ votes }) => atFence + votes.granted >= this.quorum);
  }

  /**
   * Compare-and-delete sent to every node without waiting: on each connection it follows the
   * acquire script, so even a node that answers late deletes only what this attempt set.
   */
  private releaseEverywhere(lockKeys: readonly string[], token: string): void {
    void callNodes({
      clients: this.clients,
      timeoutMs: this.options.nodeTimeoutMs,
      call: (client) => evalScript(client, RELEASE, lockKeys, [token]),
      vote: answeredVote,
      decided: () => false,
    });
  }

  private checkRequest(resources: readonly string[], ttlMs: number): void {
    if (!Array.isArray(resources) || resources.length === 0) {
      throw new RangeError('Redlock needs at least one resource');
    }
    if (resources.some((resource) => typeof resource !== 'string' || resource === '')) {
      throw new RangeError('Redlock resources must be non-empty strings');
    }
    if (resources.length > 1 && new Set(resources).size !== resources.length) {
      throw new RangeError('Redlock resources must be distinct');
    }
    if (!Number.isSafeInteger(ttlMs) || validityMs(ttlMs, 0, this.options.driftFactor) <= 0) {
      throw new RangeError(
        `Redlock ttl must be an integer number of ms larger than its drift, got ${ttlMs}`,
      );
    }
  }
}

/**
 * 16 random bytes as hex, the holder's mark on its keys. Drawn from a pool filled by the CSPRNG
 * 256 tokens at a time, as crypto.randomUUID caches its entropy: one randomBytes(16) per attempt
 * was a syscall-sized cost on the hot path. Each byte of the pool is used once.
 */
function randomToken(): string {
  if (tokenOffset === tokenPool.length) {
    randomFillSync(tokenPool);
    tokenOffset = 0;
  }
  const token = tokenPool.toString('hex', tokenOffset, tokenOffset + TOKEN_BYTES);
  tokenOffset += TOKEN_BYTES;
  return token;
}

const TOKEN_BYTES = 16;
const tokenPool = Buffer.alloc(TOKEN_BYTES * 256);
let tokenOffset = tokenPool.length;

/** ACQUIRE answers the fence when it set the keys, nil when a resource is held. */
function acquireVote(reply: NodeReply<unknown>): Vote {
  if (reply.state !== 'answered') return reply.state;
  return reply.value === null ? 'refused' : 'granted';
}

/** EXTEND and RAISE_FENCE answer 1 for yes, 0 for no. */
function oneMeansGranted(reply: NodeReply<unknown>): Vote {
  if (reply.state !== 'answered') return reply.state;
  return reply.value === 1 ? 'granted' : 'refused';
}

/** For RELEASE any answer counts: the key is gone from that node, or was never ours there. */
function answeredVote(reply: NodeReply<unknown>): Vote {
  return reply.state === 'answered' ? 'granted' : reply.state;
}

/** The lock object Redlock hands out: immutable; extend() returns a new one. */
class HeldLock implements Lock {
  constructor(
    private readonly redlock: Redlock,
    readonly resources: string[],
    readonly value: string,
    readonly fence: bigint,
    readonly expiresAt: number,
    /** The same instant as expiresAt on the monotonic clock, immune to wall-clock jumps. */
    private readonly validUntil: number,
  ) {}

  remainingMs(): number {
    return this.validUntil - performance.now();
  }

  extend(ttlMs: number): Promise<Lock> {
    return this.redlock.extend(this, ttlMs);
  }

  release(): Promise<void> {
    return this.redlock.release(this);
  }
}
