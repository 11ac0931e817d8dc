import { Redis } from 'ioredis';

/**
 * ioredis clients that fail fast: a command times out, nothing queues while a node is down,
 * and reconnection goes on in the background. A dead node must make a health probe or a lock
 * attempt fail at once, not hang it.
 */
export function createRedisClients(urls: string[]): Redis[] {
  return urls.map(
    (url) =>
      new Redis(url, {
        commandTimeout: 500,
        connectTimeout: 1000,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
        lazyConnect: false,
      }),
  );
}
