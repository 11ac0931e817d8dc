// The Redlock quorum of `npm run infra:up` (or REDIS_NODES): every node answers and keeps a
// key, and each is its own server, since a quorum of one server three times is no quorum.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { DEFAULTS, env, loadConfig, redactUrl } from '@app/dist-core/config';

const { REDIS_NODES } = loadConfig({ REDIS_NODES: env.redisUrls(DEFAULTS.REDIS_NODES) });
/** [name without the password, url]: test names end up in logs. */
const NODES = REDIS_NODES.map((url) => [redactUrl(url), url]);

describe('Redis nodes', () => {
  const key = `infra-test:${randomUUID()}`;
  const clients: Redis[] = [];

  // No offline queue and no reconnects: a node that is down fails its test at once with its
  // own connection error, instead of hanging until the test times out.
  async function connect(url: string): Promise<Redis> {
    const client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: 2000,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    clients.push(client);
    let lastError: Error | undefined;
    client.on('error', (error: Error) => (lastError = error));
    try {
      await client.connect();
    } catch (error) {
      throw new Error(`${redactUrl(url)}: ${(lastError ?? (error as Error)).message}`, {
        cause: error,
      });
    }
    return client;
  }

  afterAll(async () => {
    // A client whose connection failed has already ended; disconnecting it again would leave a
    // timer behind that keeps Jest from exiting.
    const open = clients.filter((client) => client.status !== 'end');
    await Promise.all(
      open.map((client) => (client.status === 'ready' ? client.quit() : client.disconnect())),
    );
  });

  it.each(NODES)('%s answers PING and keeps a key', async (name, url) => {
    const client = await connect(url);
    expect(await client.ping()).toBe('PONG');

    const value = `value for ${name}`;
    expect(await client.set(key, value, 'PX', 60_000)).toBe('OK');
    expect(await client.get(key)).toBe(value);
    expect(await client.del(key)).toBe(1);
  });

  it('are independent servers', async () => {
    const runIds = await Promise.all(
      REDIS_NODES.map(async (url) => {
        const info = await (await connect(url)).info('server');
        return /run_id:(\w+)/.exec(info)?.[1];
      }),
    );
    expect(runIds).not.toContain(undefined);
    expect(new Set(runIds).size).toBe(REDIS_NODES.length);
  });
});
