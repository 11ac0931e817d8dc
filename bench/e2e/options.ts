/**
 * What `npm run bench` measures, from the environment. With the defaults a run takes about
 * 20 s per level and system: about seven minutes for five systems at four levels.
 */
export type Strategy = 'saga' | 'tcc' | '2pc';
export const STRATEGIES: readonly Strategy[] = ['saga', 'tcc', '2pc'];
const isStrategy = (s: string): s is Strategy => (STRATEGIES as readonly string[]).includes(s);

/**
 * What a run can measure: the project's two strategies through its services; `direct`, `dbos`
 * and `restate`, the peer systems of bench/peers/ (the same flow on direct HTTP calls, on DBOS
 * Transact, on Restate); and `baseline`, the old reference (the business writes done by the
 * bench process itself, no services at all: baseline.ts), off unless asked for.
 */
export type SystemName = Strategy | 'direct' | 'dbos' | 'restate' | 'baseline';
export const SYSTEM_NAMES: readonly SystemName[] = [
  'saga',
  'tcc',
  '2pc',
  'direct',
  'dbos',
  'restate',
  'baseline',
];
export const DEFAULT_SYSTEMS: SystemName[] = ['saga', 'tcc', '2pc', 'direct', 'dbos', 'restate'];

export interface BenchOptions {
  /** Orders in flight at once; each level runs after the previous one drained. */
  concurrency: number[];
  /** BENCH_SYSTEMS, in the order they run (each system runs all levels, then the next). */
  systems: SystemName[];
  /** The systems among them that are this project's strategies. */
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
  /** Measure the strategies' trade-offs after their levels (BENCH_TRADEOFFS=0 skips it). */
  tradeoffs: boolean;
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
  // BENCH_STRATEGIES (before the peers) still narrows the project's own rows.
  const strategies = list<Strategy>('BENCH_STRATEGIES', [...STRATEGIES], STRATEGIES);
  const systems = list<SystemName>('BENCH_SYSTEMS', DEFAULT_SYSTEMS, SYSTEM_NAMES).filter(
    (s) => !isStrategy(s) || strategies.includes(s),
  );
  return {
    concurrency,
    systems,
    strategies: systems.filter(isStrategy),
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
    tradeoffs: process.env.BENCH_TRADEOFFS !== '0',
  };
}
