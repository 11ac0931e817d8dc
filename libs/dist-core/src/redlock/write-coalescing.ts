import type { Redis } from 'ioredis';

/**
 * Holds back a node's socket writes until the end of the current tick, so that every lock command
 * issued to that node in this tick leaves in one write (writev) instead of one syscall each.
 *
 * Why: ioredis writes each command to its socket at once. Under load, the replies of many locks
 * arrive in one read and their continuations send the next scripts in the same tick; in
 * bench/redlock.bench.ts the write syscalls were about a quarter of the client's time, more than
 * all of Redlock's own code. What is held back is flushed on process.nextTick, before any I/O or
 * timer runs, so no command waits for anything but the code already running: latency is not
 * traded for it. Order on the connection is unchanged, which the scripts rely on (a release sent
 * after an acquire is processed after it).
 *
 * Only a connected stream is corked: with the offline queue off, a command to any other fails at
 * once without writing. A stream someone else has corked is left to them.
 */
export function coalesceWrites(client: Redis): void {
  if (client.status !== 'ready') return;
  const stream = client.stream;
  if (stream.writableCorked > 0) return;
  if (corked.length === 0) process.nextTick(uncorkAll);
  stream.cork();
  corked.push(stream);
}

const corked: Redis['stream'][] = [];

function uncorkAll(): void {
  // The streams, not the clients: a client that reconnected meanwhile has a new stream, and the
  // one corked here must still be released (uncorking a destroyed stream does nothing).
  for (const stream of corked) stream.uncork();
  corked.length = 0;
}
