import { describe, expect, it } from '@jest/globals';
import { assessReadiness, healthBody, type ProbeResult } from './readiness.js';

function probes(redisUp: number, overrides: Partial<Record<string, boolean>> = {}): ProbeResult[] {
  return [
    { check: 'postgres', target: 'orders_0', ok: overrides.orders_0 ?? true },
    { check: 'postgres', target: 'orders_1', ok: true },
    { check: 'kafka', target: 'kafka', ok: overrides.kafka ?? true },
    { check: 'kafka-consumer', target: 'order-service', ok: overrides.consumer ?? true },
    ...[6379, 6380, 6381].map((port, index) => ({
      check: 'redlock' as const,
      target: `127.0.0.1:${port}`,
      ok: index < redisUp,
      ...(index < redisUp ? {} : { error: `connect ECONNREFUSED 127.0.0.1:${port}` }),
    })),
  ];
}

describe('readiness', () => {
  it('is ready with every server up', () => {
    const readiness = assessReadiness(probes(3));
    expect(readiness.ready).toBe(true);
    expect(readiness.checks).toEqual({
      postgres: 'up',
      kafka: 'up',
      'kafka-consumer': 'up',
      redlock: 'up',
    });
  });

  it('stays ready with one Redis node of three down: the Redlock quorum is two', () => {
    const readiness = assessReadiness(probes(2));
    expect(readiness.ready).toBe(true);
    expect(readiness.checks.redlock).toBe('degraded');
  });

  it('is not ready without a Redlock quorum, a database, Kafka or the consumer group', () => {
    expect(assessReadiness(probes(1)).checks.redlock).toBe('down');
    expect(assessReadiness(probes(1)).ready).toBe(false);
    expect(assessReadiness(probes(3, { orders_0: false })).ready).toBe(false);
    expect(assessReadiness(probes(3, { kafka: false })).ready).toBe(false);
    expect(assessReadiness(probes(3, { consumer: false })).ready).toBe(false);
  });

  it('names hosts and errors only in the operator body', () => {
    const readiness = assessReadiness(probes(1));
    const everyone = JSON.stringify(healthBody(readiness, false));
    expect(everyone).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|orders_0|6380/);
    expect(healthBody(readiness, false)).toEqual({
      status: 'unavailable',
      checks: { postgres: 'up', kafka: 'up', 'kafka-consumer': 'up', redlock: 'down' },
    });
    expect(JSON.stringify(healthBody(readiness, true))).toContain('ECONNREFUSED 127.0.0.1:6380');
  });
});
