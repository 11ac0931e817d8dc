// The three built services as child processes against the real servers: each answers 200 on
// /health; with one Redis node stopped each answers 503 naming that node; with it back, 200.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { redisNode } from '../support/infra.js';
import { startService, type RunningService } from '../support/services.js';

const STOPPED_REDIS_PORT = 6381;

describe('GET /health of the three services', () => {
  let services: RunningService[] = [];

  beforeAll(async () => {
    services = (['order', 'payment', 'inventory'] as const).map((name) => startService(name));
    await Promise.all(services.map((service) => service.waitForHealth(200)));
  }, 120_000);

  afterAll(async () => {
    redisNode.start(STOPPED_REDIS_PORT);
    const exits = await Promise.all(services.map((service) => service.stop()));
    // A graceful shutdown: each service ran its ordered shutdown (consumer, producer, pools,
    // Redis clients) and ended by the SIGTERM, not by the SIGKILL of a timeout.
    for (const [index, exit] of exits.entries()) {
      expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
      expect(services[index].output.join('')).toContain('Stopped on SIGTERM');
    }
  }, 60_000);

  it('reports every dependency up', async () => {
    for (const service of services) {
      const body = (await service.waitForHealth(200)) as {
        status: string;
        details: Record<string, unknown>;
      };
      expect(body.status).toBe('ok');
      const keys = Object.keys(body.details);
      expect(keys).toEqual(
        expect.arrayContaining([
          'kafka',
          'redis:127.0.0.1:6379',
          'redis:127.0.0.1:6380',
          'redis:127.0.0.1:6381',
        ]),
      );
      const databases = keys.filter((key) => key.startsWith('postgres:'));
      expect(databases).toEqual(
        service.name === 'order'
          ? ['postgres:orders_0', 'postgres:orders_1', 'postgres:orders_2']
          : [`postgres:${service.name}`],
      );
    }
  });

  it('answers 503 naming a stopped Redis node, and 200 once it is back', async () => {
    redisNode.stop(STOPPED_REDIS_PORT);
    for (const service of services) {
      const body = (await service.waitForHealth(503, 15_000)) as {
        message: string;
        statusCode: number;
      };
      expect(body.statusCode).toBe(503);
      expect(body.message).toContain(`redis:127.0.0.1:${STOPPED_REDIS_PORT}`);
      expect(body.message).not.toContain('redis:127.0.0.1:6380');
    }
    redisNode.start(STOPPED_REDIS_PORT);
    await Promise.all(services.map((service) => service.waitForHealth(200, 15_000)));
  }, 60_000);
});
