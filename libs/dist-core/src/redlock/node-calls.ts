import type { Redis } from 'ioredis';
import type { Tally, Vote } from './quorum.js';

export type NodeReply<R> =
  | { readonly state: 'answered'; readonly value: R }
  | { readonly state: 'failed'; readonly error: Error }
  | { readonly state: 'pending' };

export interface NodeCalls<R> {
  clients: readonly Redis[];
  timeoutMs: number;
  call: (client: Redis) => Promise<R>;
  /** How a reply counts for the quorum rules. */
  vote: (reply: NodeReply<R>) => Vote;
  /** True once the outcome is known from the votes so far (e.g. a quorum granted). */
  decided: (votes: Tally) => boolean;
  /** A reply that arrived after the outcome was decided (a stalled node catching up). */
  onLateReply?: (index: number, reply: NodeReply<R>) => void;
}

export interface NodeOutcome<R> {
  readonly replies: readonly NodeReply<R>[];
  readonly votes: Tally;
}

const PENDING: NodeReply<never> = { state: 'pending' };

/** The node did not answer within the per-node timeout: slow or stalled, not known to be down. */
export class NodeTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`Redis node did not answer within ${timeoutMs} ms`);
    this.name = 'NodeTimeoutError';
  }
}

/** Nodes known to be unreachable: they failed at once (refused, closed), not by timing out. */
export function unreachableCount(replies: readonly NodeReply<unknown>[]): number {
  let count = 0;
  for (const reply of replies) {
    if (reply.state === 'failed' && !(reply.error instanceof NodeTimeoutError)) count++;
  }
  return count;
}

/**
 * Sends `call` to every node at once under one deadline, and resolves as soon as `decided` says
 * the outcome is known: a stalled node costs nothing while a quorum answers, and at most
 * `timeoutMs` when it is needed (it then counts as failed). Commands that miss the deadline are
 * not cancelled (Redis cannot un-send them); the scripts are written so that a late arrival is
 * harmless, and `onLateReply` lets the caller tidy up after one.
 */
export function callNodes<R>(spec: NodeCalls<R>): Promise<NodeOutcome<R>> {
  let connecting: Redis[] | undefined;
  for (const client of spec.clients)
    if (isFirstConnecting(client)) (connecting ??= []).push(client);
  if (connecting === undefined) return callConnectedNodes(spec);
  return Promise.all(connecting.map(firstConnection)).then(() => callConnectedNodes(spec));
}

function callConnectedNodes<R>(spec: NodeCalls<R>): Promise<NodeOutcome<R>> {
  const { clients, timeoutMs, call, vote, decided, onLateReply } = spec;
  const replies: NodeReply<R>[] = clients.map(() => PENDING);
  const votes: Tally = { granted: 0, refused: 0, failed: 0, pending: clients.length };
  let resolveOutcome!: (outcome: NodeOutcome<R>) => void;
  const outcome = new Promise<NodeOutcome<R>>((resolve) => (resolveOutcome = resolve));

  const finish = () => {
    deadline.done = true;
    removeDeadline(deadline);
    resolveOutcome({ replies: replies.slice(), votes: { ...votes } });
  };
  const settle = (index: number, reply: NodeReply<R>) => {
    if (replies[index].state !== 'pending') return;
    replies[index] = reply;
    if (deadline.done) {
      onLateReply?.(index, reply);
      return;
    }
    votes.pending--;
    votes[vote(reply)]++;
    if (votes.pending === 0 || decided(votes)) finish();
  };
  const expire = () => {
    const timedOut: NodeReply<R> = { state: 'failed', error: new NodeTimeoutError(timeoutMs) };
    for (let index = 0; index < replies.length; index++) {
      if (replies[index].state === 'pending') settle(index, timedOut);
    }
  };
  const deadline: Deadline = {
    at: performance.now() + timeoutMs,
    done: false,
    expire,
    earlier: undefined,
    later: undefined,
  };
  addDeadline(deadline);

  for (let index = 0; index < clients.length; index++) {
    call(clients[index]).then(
      (value) => settle(index, { state: 'answered', value }),
      (error: unknown) =>
        settle(index, {
          state: 'failed',
          error: error instanceof Error ? error : new Error(String(error)),
        }),
    );
  }
  if (clients.length === 0) finish();
  return outcome;
}

/**
 * Per-call deadlines share one timer. A setTimeout armed and cleared for every lock operation
 * measurably slowed acquire+release (≈ 0.3 ms at p50 under load in bench/redlock.bench.ts); here
 * a single sweep, armed for the earliest pending deadline, expires what is due.
 *
 * A finished call leaves the pending list at once, in O(1), which is why it is a linked list.
 * Kept until the next sweep, finished calls (their replies, votes and closures: ~50 ms of them)
 * outlived young-generation GCs and were copied and promoted; a Set of the pending calls, though
 * small, made it worse (≈ 750 KB promoted per scavenge, 4–5 ms pauses). With the list ≈ 5 KB is
 * promoted, pauses are ≈ 1 ms, and acquire+release's p99 in bench/redlock.bench.ts fell with them.
 */
interface Deadline {
  readonly at: number;
  done: boolean;
  readonly expire: () => void;
  earlier: Deadline | undefined;
  later: Deadline | undefined;
}

/** The calls still waiting, oldest first (deadline order for calls with one timeoutMs). */
let oldest: Deadline | undefined;
let newest: Deadline | undefined;
let sweepTimer: NodeJS.Timeout | undefined;
let sweepAt = Infinity;

function addDeadline(deadline: Deadline): void {
  deadline.earlier = newest;
  if (newest === undefined) oldest = deadline;
  else newest.later = deadline;
  newest = deadline;
  if (deadline.at < sweepAt) armSweep(deadline.at);
}

function removeDeadline(deadline: Deadline): void {
  const { earlier, later } = deadline;
  if (earlier === undefined) {
    if (oldest === deadline) oldest = later;
  } else earlier.later = later;
  if (later === undefined) {
    if (newest === deadline) newest = earlier;
  } else later.earlier = earlier;
  deadline.earlier = deadline.later = undefined;
}

function armSweep(at: number): void {
  clearTimeout(sweepTimer);
  sweepAt = at;
  sweepTimer = setTimeout(
    // setImmediate: after an event-loop stall the timer phase runs before pending socket reads;
    // letting that I/O go first keeps a reply that arrived in time from counting as a timeout.
    () => setImmediate(sweep),
    Math.max(0, at - performance.now()),
  );
}

function sweep(): void {
  sweepTimer = undefined;
  sweepAt = Infinity;
  const now = performance.now();
  const due: Deadline[] = [];
  let next = Infinity;
  for (let deadline = oldest; deadline !== undefined; deadline = deadline.later) {
    if (deadline.at <= now) due.push(deadline);
    else if (deadline.at < next) next = deadline.at;
  }
  // Expiring settles the call's pending nodes as timed out, which finishes it and unlinks it.
  for (const deadline of due) deadline.expire();
  if (next < Infinity) armSweep(next);
}

/**
 * A client still making its first connection (a service that has just started) is waited for,
 * up to FIRST_CONNECTION_WAIT_MS, before the per-node deadline starts. After that first attempt
 * (connected or refused) a client is never waited for: with the offline queue off, a command to
 * a node that is down fails at once, which is what lets a dead node cost nothing.
 */
const firstAttemptDone = new WeakSet<Redis>();
const firstConnections = new WeakMap<Redis, Promise<void>>();

function isFirstConnecting(client: Redis): boolean {
  if (client.status === 'ready') {
    firstAttemptDone.add(client);
    return false;
  }
  if (firstAttemptDone.has(client)) return false;
  return client.status === 'wait' || client.status === 'connecting' || client.status === 'connect';
}

/** Long enough for a connection on a healthy network, short enough that a frozen node cannot hang. */
const FIRST_CONNECTION_WAIT_MS = 1000;

function firstConnection(client: Redis): Promise<void> {
  // One wait per client, however many calls share it.
  let settled = firstConnections.get(client);
  if (settled === undefined) {
    settled = new Promise<void>((resolve) => {
      const done = () => {
        // Connected, refused, or still silent (a frozen node accepts TCP but never answers the
        // ready check): either way, later calls no longer wait for this client.
        firstAttemptDone.add(client);
        clearTimeout(timer);
        client.off('ready', done);
        client.off('close', done);
        firstConnections.delete(client);
        resolve();
      };
      const timer = setTimeout(done, FIRST_CONNECTION_WAIT_MS);
      client.once('ready', done);
      client.once('close', done);
    });
    firstConnections.set(client, settled);
    if (client.status === 'wait') void client.connect().catch(() => undefined);
  }
  return settled;
}
