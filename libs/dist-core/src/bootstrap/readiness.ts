import { quorumSize } from '../redlock/quorum.js';

/**
 * What GET /health/ready reports, kept apart from the probing so the rules read in one place:
 * every database must answer, Kafka must answer and this process's consumer be in its group,
 * and a Redlock quorum of the Redis nodes (2 of 3) must answer. One Redis node down is
 * `degraded`, not down: locks and worker-id leases still work, and a readiness probe that
 * failed here would take every replica out of service at once for an outage they ride out.
 */
export type Check = 'postgres' | 'kafka' | 'kafka-consumer' | 'redlock';
export type CheckState = 'up' | 'degraded' | 'down';

/** One probe of one server: `target` and `error` name hosts, so they are for operators only. */
export interface ProbeResult {
  check: Check;
  target: string;
  ok: boolean;
  error?: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<Check, CheckState>;
  probes: ProbeResult[];
}

export function assessReadiness(probes: ProbeResult[]): Readiness {
  const of = (check: Check) => probes.filter((probe) => probe.check === check);
  const all = (check: Check): CheckState => (of(check).every((p) => p.ok) ? 'up' : 'down');
  const redis = of('redlock');
  const answering = redis.filter((probe) => probe.ok).length;
  const checks: Record<Check, CheckState> = {
    postgres: all('postgres'),
    kafka: all('kafka'),
    'kafka-consumer': all('kafka-consumer'),
    redlock:
      answering === redis.length
        ? 'up'
        : answering >= quorumSize(redis.length)
          ? 'degraded'
          : 'down',
  };
  return { ready: Object.values(checks).every((state) => state !== 'down'), checks, probes };
}

/**
 * The body of a health answer. Anyone may see which checks pass; which host failed and why is
 * for operators (CONTRACT.md: without an operator's token a 503 names no hosts or errors):
 * `withDetails` is true only for a request with an operator's verified token.
 */
export function healthBody(readiness: Readiness, withDetails: boolean): object {
  const body = { status: readiness.ready ? 'ok' : 'unavailable', checks: readiness.checks };
  return withDetails ? { ...body, probes: readiness.probes } : body;
}
