import { Redis } from 'ioredis';

export interface RedlockClientOptions {
  /** Upper bound on any one command; Redlock's own per-node timeout is usually shorter. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/**
 * One ioredis client per independent Redis node, configured so that a dead or stalled node can
 * never hang a lock operation. ioredis defaults do the opposite (no command timeout, commands
 * queued while disconnected, 20 retries per request, unanswered commands re-sent on reconnect):
 * - `enableOfflineQueue: false` — a command to a disconnected node fails at once;
 * - `commandTimeout` — a command to a stalled node (SIGSTOP, GC, full network buffer) fails;
 * - `maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands: false` — a lock command is never
 *   replayed after a reconnect, when its answer would come far too late to count;
 * - `retryStrategy` — reconnection continues in the background forever, so a node rejoins the
 *   quorum by itself, while no command ever waits for it.
 */
export function createRedlockClients(urls: string[], options: RedlockClientOptions = {}): Redis[] {
  const { commandTimeoutMs = 500, connectTimeoutMs = 1000 } = options;
  return urls.map((url) => {
    const client = new Redis(url, {
      commandTimeout: commandTimeoutMs,
      connectTimeout: connectTimeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
    });
    // A node that is down is an expected state for a quorum, not a crash: without a listener
    // ioredis would report every failed reconnection as an unhandled error event.
    client.on('error', () => undefined);
    return client;
  });
}

/** QUIT where the node answers; otherwise drop the connection rather than wait for it. */
export async function closeRedisClients(clients: readonly Redis[]): Promise<void> {
  await Promise.all(
    clients.map(async (client) => {
      if (client.status === 'end') return;
      if (client.status !== 'ready') return client.disconnect();
      await client.quit().catch(() => client.disconnect());
    }),
  );
}
