import { Redis } from 'ioredis';

/** The independent Redis nodes of REDIS_NODES, in their configured order. */
export class RedisNodes {
  readonly clients: Redis[];

  constructor(
    readonly urls: string[],
    createClients: (urls: string[]) => Redis[],
  ) {
    this.clients = createClients(urls);
  }

  /** `127.0.0.1:6380`: how a node is named in health output. */
  label(index: number): string {
    const url = new URL(this.urls[index]);
    return `${url.hostname}:${url.port || '6379'}`;
  }

  async quit(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.quit().catch(() => client.disconnect())));
  }
}
