/**
 * What `npm run bench` measures, from the environment; every default keeps a run under about
 * five minutes on a small machine.
 */
export type Strategy = 'saga' | 'tcc';

export interface BenchOptions {
  /** Orders in flight at once; each level runs after the previous one drained. */
  concurrency: number[];
  strategies: Strategy[];
  warmupMs: number;
  durationMs: number;
  /** Drive services someone else started (BENCH_*_URL) instead of starting the built ones. */
  external: boolean;
  urls: { order: string; payment: string; inventory: string };
  /** Ports of the services the bench starts itself: base, base+1, base+2. */
  portBase: number;
  /** Distinct customers and products the workers spread over (worker i uses i mod this). */
  accounts: number;
  /** How often the completion poller looks for terminal orders. */
  pollIntervalMs: number;
  /** Connections per database of the baseline process. */
  baselinePoolSize: number;
}

function list<T extends string>(name: string, fallback: T[], allowed?: readonly T[]): T[] {
  const raw = process.env[name];
  if (!raw) return fallback;
  const values = raw.split(',').map((v) => v.trim()) as T[];
  for (const value of values) {
    if (allowed && !allowed.includes(value)) throw new Error(`${name}: unknown value ${value}`);
  }
  return values;
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

export function readOptions(): BenchOptions {
  const portBase = positive('BENCH_PORT_BASE', 3100);
  const external = process.env.BENCH_EXTERNAL === '1';
  const local = (offset: number) => `http://127.0.0.1:${portBase + offset}`;
  const concurrency = list('BENCH_CONCURRENCY', ['1', '4', '16', '64']).map(Number);
  if (concurrency.some((c) => !Number.isInteger(c) || c < 1)) {
    throw new Error('BENCH_CONCURRENCY must list positive integers, e.g. 1,4,16,64');
  }
  return {
    concurrency,
    strategies: list<Strategy>('BENCH_STRATEGIES', ['saga', 'tcc'], ['saga', 'tcc']),
    warmupMs: positive('BENCH_WARMUP_S', 5) * 1000,
    durationMs: positive('BENCH_DURATION_S', 15) * 1000,
    external,
    urls: {
      order: process.env.BENCH_ORDER_URL ?? local(0),
      payment: process.env.BENCH_PAYMENT_URL ?? local(1),
      inventory: process.env.BENCH_INVENTORY_URL ?? local(2),
    },
    portBase,
    accounts: positive('BENCH_ACCOUNTS', 64),
    pollIntervalMs: positive('BENCH_POLL_MS', 10),
    baselinePoolSize: positive('BENCH_BASELINE_POOL', 4),
  };
}
