// The Redlock quorum of `npm run infra:up` (or REDIS_NODES): every node answers and keeps a
// key, and each is its own server, since a quorum of one server three times is no quorum.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { DEFAULTS, env, loadConfig } from '@app/dist-core/config';

const { REDIS_NODES } = loadConfig({ REDIS_NODES: env.redisUrls(DEFAULTS.REDIS_NODES) });

describe('Redis nodes', () => {
  const key = `infra-test:${randomUUID()}`;
  // No offline queue and no retries: a node that is down fails the test at once, by name.
  const clients = REDIS_NODES.map(
    (url) =>
      new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 }),
  );

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
  });

  it.each(REDIS_NODES.map((url, index) => ({ url, index })))(
    '$url answers PING and keeps a key',
    async ({ index }) => {
      const client = clients[index];
      await client.connect();
      expect(await client.ping()).toBe('PONG');

      const value = `value-${index}`;
      expect(await client.set(key, value, 'PX', 60_000)).toBe('OK');
      expect(await client.get(key)).toBe(value);
      expect(await client.del(key)).toBe(1);
    },
  );

  it('are independent servers', async () => {
    await Promise.all(clients.filter((c) => c.status === 'wait').map((c) => c.connect()));
    const runIds = await Promise.all(
      clients.map(async (client) => /run_id:(\w+)/.exec(await client.info('server'))?.[1]),
    );
    expect(runIds).not.toContain(undefined);
    expect(new Set(runIds).size).toBe(REDIS_NODES.length);
  });
});
