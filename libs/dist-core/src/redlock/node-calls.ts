import type { Redis } from 'ioredis';

export type NodeReply<R> =
  | { readonly state: 'answered'; readonly value: R }
  | { readonly state: 'failed'; readonly error: Error }
  | { readonly state: 'pending' };

export interface NodeCalls<R> {
  /** The replies as they stood when `decided` first held, every node answered, or time ran out. */
  readonly early: Promise<readonly NodeReply<R>[]>;
  /** Every node's reply, at the latest when the per-node timeout runs out. */
  readonly all: Promise<readonly NodeReply<R>[]>;
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
  return replies.filter(
    (reply) => reply.state === 'failed' && !(reply.error instanceof NodeTimeoutError),
  ).length;
}

/**
 * Sends `call` to every node at once under one deadline, and resolves `early` as soon as
 * `decided` says the outcome is known: a stalled node costs nothing while a quorum answers,
 * and at most `timeoutMs` when it is needed. Commands that miss the deadline are not cancelled
 * (Redis cannot un-send them); the scripts are written so that a late arrival is harmless.
 */
export function callNodes<R>(
  clients: readonly Redis[],
  timeoutMs: number,
  call: (client: Redis) => Promise<R>,
  decided: (replies: readonly NodeReply<R>[]) => boolean,
): NodeCalls<R> {
  const connecting = clients.filter(isFirstConnecting);
  if (connecting.length === 0) return callConnectedNodes(clients, timeoutMs, call, decided);
  const calls = Promise.all(connecting.map(firstConnection)).then(() =>
    callConnectedNodes(clients, timeoutMs, call, decided),
  );
  return { early: calls.then((c) => c.early), all: calls.then((c) => c.all) };
}

function callConnectedNodes<R>(
  clients: readonly Redis[],
  timeoutMs: number,
  call: (client: Redis) => Promise<R>,
  decided: (replies: readonly NodeReply<R>[]) => boolean,
): NodeCalls<R> {
  const replies: NodeReply<R>[] = clients.map(() => PENDING);
  let remaining = clients.length;
  let resolveEarly!: (replies: readonly NodeReply<R>[]) => void;
  let resolveAll!: (replies: readonly NodeReply<R>[]) => void;
  const early = new Promise<readonly NodeReply<R>[]>((resolve) => (resolveEarly = resolve));
  const all = new Promise<readonly NodeReply<R>[]>((resolve) => (resolveAll = resolve));
  let earlyDone = false;

  const finishEarly = () => {
    if (earlyDone) return;
    earlyDone = true;
    resolveEarly(replies.slice());
  };
  const finishAll = () => {
    clearTimeout(deadline);
    finishEarly();
    resolveAll(replies.slice());
  };
  const settle = (index: number, reply: NodeReply<R>) => {
    if (replies[index].state !== 'pending') return;
    replies[index] = reply;
    remaining--;
    if (remaining === 0) finishAll();
    else if (!earlyDone && decided(replies)) finishEarly();
  };

  const expire = () => {
    if (remaining === 0) return;
    const timedOut = new NodeTimeoutError(timeoutMs);
    replies.forEach((reply, index) => {
      if (reply.state === 'pending') replies[index] = { state: 'failed', error: timedOut };
    });
    remaining = 0;
    finishAll();
  };
  // setImmediate: after an event-loop stall the timer phase runs before pending socket reads;
  // letting I/O go first keeps a reply that arrived in time from being counted as a timeout.
  const deadline = setTimeout(() => setImmediate(expire), timeoutMs);

  clients.forEach((client, index) => {
    call(client).then(
      (value) => settle(index, { state: 'answered', value }),
      (error: unknown) =>
        settle(index, {
          state: 'failed',
          error: error instanceof Error ? error : new Error(String(error)),
        }),
    );
  });
  if (clients.length === 0) finishAll();
  return { early, all };
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
  if (client.status === 'ready') firstAttemptDone.add(client);
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
