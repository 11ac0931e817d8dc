import type { Redis } from 'ioredis';
import { closeRedisClients, createRedlockClients } from '../redlock/index.js';

/**
 * The independent Redis nodes of REDIS_NODES, in their configured order, with clients that
 * fail fast (see createRedlockClients): a dead node must make a health probe or a lock
 * attempt fail at once, not hang it.
 */
export class RedisNodes {
  readonly clients: Redis[];

  constructor(readonly urls: string[]) {
    this.clients = createRedlockClients(urls);
  }

  /** `127.0.0.1:6380`: how a node is named in health output. */
  label(index: number): string {
    const url = new URL(this.urls[index]);
    return `${url.hostname}:${url.port || '6379'}`;
  }

  quit(): Promise<void> {
    return closeRedisClients(this.clients);
  }
}
