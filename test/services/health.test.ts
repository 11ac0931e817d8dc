// The three built services as child processes against the real servers, probed as an
// orchestrator would: /health/live is 200 while the process runs; /health/ready (and /health)
// is 200 with every server up, still 200 with one Redis node of three down (the Redlock quorum
// is two: a readiness probe must not take every replica out for that), and 503 with two down,
// in a body that names no host and no error unless an operator's token asks. The Redis nodes are those of REDIS_NODES (the
// native 6379-6381 by default); the test stops and restarts two of them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULTS, env, loadConfig } from '@app/dist-core/config';
import { redisNode } from '../support/infra.js';
import { startService, type RunningService } from '../support/services.js';
import { ANONYMOUS, asCustomer, authorization, OPERATOR, type Caller } from '../support/tokens.js';

const REDIS_PORTS = loadConfig({
  REDIS_NODES: env.redisUrls(DEFAULTS.REDIS_NODES),
}).REDIS_NODES.map((url) => Number(new URL(url).port || 6379));
const [, SECOND_REDIS, THIRD_REDIS] = REDIS_PORTS;

interface HealthAnswer {
  status: number;
  body: {
    status?: string;
    checks?: Record<string, string>;
    details?: { probes?: { check: string; target: string; ok: boolean; error?: string }[] };
  };
}

async function probe(
  service: RunningService,
  path: string,
  as: Caller = ANONYMOUS,
): Promise<HealthAnswer> {
  const response = await fetch(`${service.url}${path}`, {
    headers: await authorization(as),
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, body: (await response.json()) as HealthAnswer['body'] };
}

/** Polls `path` until its answer passes `expectation` (a function that throws until then). */
async function untilAnswer(
  services: RunningService[],
  path: string,
  expectation: (answer: HealthAnswer) => void,
  timeoutMs = 20_000,
): Promise<void> {
  for (const service of services) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await probe(service, path);
      try {
        expectation(answer);
        break;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(`${service.name} ${path}: ${JSON.stringify(answer)}`, { cause: error });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

describe('health of the three services', () => {
  let services: RunningService[] = [];

  beforeAll(async () => {
    services = (['order', 'payment', 'inventory'] as const).map((name) => startService(name));
    await Promise.all(services.map((service) => service.waitForHealth(200)));
  }, 120_000);

  afterAll(async () => {
    redisNode.start(SECOND_REDIS);
    redisNode.start(THIRD_REDIS);
    const exits = await Promise.all(services.map((service) => service.stop()));
    // A graceful shutdown: each service ran its ordered shutdown (consumer, producer, pools,
    // Redis clients) and ended by the SIGTERM, not by the SIGKILL of a timeout.
    for (const [index, exit] of exits.entries()) {
      expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
      expect(services[index].output.join('')).toContain('Stopped on SIGTERM');
    }
  }, 60_000);

  it('is live and ready with every server up; /health is the same as ready', async () => {
    const up = { postgres: 'up', kafka: 'up', 'kafka-consumer': 'up', redlock: 'up' };
    for (const service of services) {
      expect(await probe(service, '/health/live')).toEqual({ status: 200, body: { status: 'ok' } });
      for (const path of ['/health/ready', '/health']) {
        expect(await probe(service, path)).toEqual({
          status: 200,
          body: { status: 'ok', checks: up },
        });
      }
    }
  });

  it('stays ready with one Redis node down, is not ready with two, and names no host', async () => {
    redisNode.stop(THIRD_REDIS);
    await untilAnswer(services, '/health/ready', ({ status, body }) => {
      expect(status).toBe(200);
      expect(body.checks?.redlock).toBe('degraded');
    });

    redisNode.stop(SECOND_REDIS);
    await untilAnswer(services, '/health/ready', ({ status }) => expect(status).toBe(503));
    for (const service of services) {
      for (const path of ['/health/ready', '/health']) {
        const { status, body } = await probe(service, path);
        expect(status).toBe(503);
        expect(body).toMatchObject({
          statusCode: 503,
          message: 'Not ready',
          details: { status: 'unavailable', checks: { redlock: 'down', postgres: 'up' } },
        });
        const text = JSON.stringify(body);
        for (const port of REDIS_PORTS) expect(text).not.toContain(String(port));
        expect(text).not.toMatch(/127\.0\.0\.1|localhost|redis:|ECONNREFUSED|Error/);
        // Nor to a customer; an operator's token sees which node failed and why.
        const customers = await probe(service, path, asCustomer('customer-42'));
        expect(JSON.stringify(customers.body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
        const operators = await probe(service, path, OPERATOR);
        expect(operators.status).toBe(503);
        const failed = operators.body.details?.probes?.filter((p) => !p.ok) ?? [];
        expect(failed.map((p) => p.check)).toEqual(['redlock', 'redlock']);
        for (const p of failed) expect(p.error).toEqual(expect.any(String));
      }
      // Liveness is the process, not its servers: an orchestrator must not restart it for this.
      expect((await probe(service, '/health/live')).status).toBe(200);
    }

    redisNode.start(SECOND_REDIS);
    redisNode.start(THIRD_REDIS);
    await untilAnswer(services, '/health/ready', ({ status, body }) => {
      expect(status).toBe(200);
      expect(body.checks?.redlock).toBe('up');
    });
  }, 90_000);
});
