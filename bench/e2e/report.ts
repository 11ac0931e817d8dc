import type { CpuBudget } from './cpu-budget.js';
import type { Machine } from './machine.js';
import type { BenchOptions } from './options.js';

export type Subject = 'saga' | 'tcc' | 'baseline';

/** One subject at one concurrency level. */
export interface LevelRow {
  subject: Subject;
  concurrency: number;
  ordersPerSecond: number;
  completed: number;
  cancelled: number;
  errors: number;
  firstError: string | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** Commits on the involved databases per completed order (the bench's own reads subtracted). */
  commitsPerOrder: number | null;
  kafkaMessagesPerOrder: number | null;
  /** System orders/s ÷ baseline orders/s at the same concurrency. */
  sOverB: number | null;
  /**
   * CPU time per completed order, ms: of each service (system rows) or of the bench process
   * itself (baseline rows). On a shared machine this, unlike orders/s, hardly depends on the load.
   */
  cpuMsPerOrder: Record<string, number> | null;
  /**
   * The rest of the machine over the same window (cpu-budget.ts): CPU ms per order of all
   * Postgres processes, the Kafka broker, the bench process (the driver), the whole machine and
   * what none of them used, and the machine's busy %. With external services (no pids) their CPU
   * is inside the rest. Null without completed orders.
   */
  cpuBudget: CpuBudget | null;
  /** Highest RSS sampled per service during this level (MiB); null when not measurable. */
  peakRssMiB: Record<string, number> | null;
  loadAverage: number;
}

export interface Summary {
  strategy: 'saga' | 'tcc';
  /** Best system orders/s over the levels ÷ best baseline orders/s over the levels. */
  bestSOverB: number | null;
  bestOrdersPerSecond: number;
  bestBaselineOrdersPerSecond: number;
  goal: string;
  met: boolean;
}

export interface E2eResult {
  at: string;
  machine: Machine;
  options: Omit<BenchOptions, 'urls'>;
  notes: string[];
  rows: LevelRow[];
  summary: Summary[];
  /** Peak RSS per service over the whole run: VmHWM at the end (MiB). */
  peakRssMiB: Record<string, number> | null;
  memoryGoal: { goal: string; met: boolean | null };
}

export function summarize(rows: LevelRow[]): Summary[] {
  const best = (subject: Subject) =>
    Math.max(0, ...rows.filter((r) => r.subject === subject).map((r) => r.ordersPerSecond));
  const baseline = best('baseline');
  return (['saga', 'tcc'] as const)
    .filter((strategy) => rows.some((r) => r.subject === strategy))
    .map((strategy) => {
      const system = best(strategy);
      const ratio = baseline > 0 ? system / baseline : null;
      return {
        strategy,
        bestSOverB: ratio,
        bestOrdersPerSecond: system,
        bestBaselineOrdersPerSecond: baseline,
        goal: 'S/B ≥ 0.5 (dtm: 0.43)',
        met: ratio !== null && ratio >= 0.5,
      };
    });
}

const fixed = (v: number | null, digits = 1) => (v === null ? '–' : v.toFixed(digits));

/**
 * Postgres, Kafka, driver and machine CPU ms per order, joined by `separator`: two decimals
 * below 1 ms (the baseline's), one above.
 */
const budgetCells = (b: CpuBudget | null, separator: string) =>
  b
    ? [b.postgresMsPerOrder, b.kafkaMsPerOrder, b.driverMsPerOrder, b.machineMsPerOrder]
        .map((v) => fixed(v, v !== null && Math.abs(v) < 1 ? 2 : 1))
        .join(separator)
    : '–';

export function printTable(result: E2eResult): void {
  const m = result.machine;
  console.log(
    `\nMachine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, load at start ${m.loadAverage.toFixed(1)}\n`,
  );
  console.table(
    result.rows.map((r) => ({
      subject: r.subject,
      conc: r.concurrency,
      'orders/s': fixed(r.ordersPerSecond),
      'S/B': fixed(r.sOverB, 2),
      'p50 ms': fixed(r.p50Ms, 0),
      'p95 ms': fixed(r.p95Ms, 0),
      'p99 ms': fixed(r.p99Ms, 0),
      'commits/order': fixed(r.commitsPerOrder),
      'kafka msgs/order': fixed(r.kafkaMessagesPerOrder),
      'CPU ms/order': r.cpuMsPerOrder ? Object.values(r.cpuMsPerOrder).join('/') : '–',
      'CPU ms/order pg/kafka/driver/machine': budgetCells(r.cpuBudget, '/'),
      'busy %': r.cpuBudget ? fixed(r.cpuBudget.machineBusyPercent, 0) : '–',
      'peak RSS MiB': r.peakRssMiB ? Object.values(r.peakRssMiB).join('/') : '–',
      'cancel/err': `${r.cancelled}/${r.errors}`,
      load: r.loadAverage.toFixed(1),
    })),
  );
  console.table(
    result.summary.map((s) => ({
      strategy: s.strategy,
      'best orders/s': fixed(s.bestOrdersPerSecond),
      'best baseline orders/s': fixed(s.bestBaselineOrdersPerSecond),
      'S/B': fixed(s.bestSOverB, 2),
      goal: s.goal,
      met: s.met ? 'yes' : 'NO',
    })),
  );
  if (result.peakRssMiB) {
    console.log(
      `Peak RSS (VmHWM) per service: ${Object.entries(result.peakRssMiB)
        .map(([name, mib]) => `${name} ${mib} MiB`)
        .join(
          ', ',
        )} — goal ${result.memoryGoal.goal}: ${result.memoryGoal.met ? 'met' : 'NOT met'}`,
    );
  }
  for (const note of result.notes) console.log(`note: ${note}`);
}

/** The Markdown table the README's Benchmarks section shows. */
export function markdownTable(result: E2eResult): string {
  const lines = [
    '| subject | concurrency | orders/s | S/B | p50 ms | p95 ms | p99 ms | commits/order | Kafka msgs/order | CPU ms/order (order/payment/inventory; baseline: its process) | CPU ms/order (Postgres/Kafka/bench driver/whole machine) | machine busy % | peak RSS MiB (order/payment/inventory) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---|',
  ];
  for (const r of result.rows) {
    lines.push(
      `| ${r.subject} | ${r.concurrency} | ${fixed(r.ordersPerSecond)} | ${fixed(r.sOverB, 2)} | ${fixed(r.p50Ms, 0)} | ${fixed(r.p95Ms, 0)} | ${fixed(r.p99Ms, 0)} | ${fixed(r.commitsPerOrder)} | ${fixed(r.kafkaMessagesPerOrder)} | ${r.cpuMsPerOrder ? Object.values(r.cpuMsPerOrder).join(' / ') : '–'} | ${budgetCells(r.cpuBudget, ' / ')} | ${r.cpuBudget ? fixed(r.cpuBudget.machineBusyPercent, 0) : '–'} | ${r.peakRssMiB ? Object.values(r.peakRssMiB).join(' / ') : '–'} |`,
    );
  }
  return lines.join('\n');
}
