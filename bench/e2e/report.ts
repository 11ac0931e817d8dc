import { tradeoffTables, type TradeoffResult } from './tradeoffs.js';
import type { ConservationResult } from './conservation.js';
import type { CpuBudget } from './cpu-budget.js';
import type { Machine } from './machine.js';
import type { BenchOptions, SystemName } from './options.js';

export type Subject = SystemName;

/** The peers the goals compare with: the better of the two at each level. */
export const PEERS: readonly Subject[] = ['dbos', 'restate'];

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
  /** Commits on the system's databases per completed order (the bench's own reads subtracted). */
  commitsPerOrder: number | null;
  /** Kafka messages per order (the project's systems; the peers use none). */
  kafkaMessagesPerOrder: number | null;
  /** Orders/s ÷ the better of DBOS's and Restate's at the same level (see fillRatios). */
  vsBestPeer: number | null;
  /** Orders/s ÷ the direct-calls baseline's at the same level. */
  vsDirect: number | null;
  /**
   * CPU time per completed order, ms, of each of the system's processes by name (the old
   * baseline: the bench process itself). On a shared machine this, unlike orders/s, hardly
   * depends on the load.
   */
  cpuMsPerOrder: Record<string, number> | null;
  /**
   * The rest of the machine over the same window (cpu-budget.ts): CPU ms per order of all
   * Postgres processes, the Kafka broker, the bench process (the driver), the whole machine and
   * what none of them used, and the machine's busy %. Null without completed orders.
   */
  cpuBudget: CpuBudget | null;
  /** Highest RSS sampled per process during this level (MiB); null when not measurable. */
  peakRssMiB: Record<string, number> | null;
  loadAverage: number;
}

/** The goals for one strategy, read from this run's rows. */
export interface Summary {
  strategy: 'saga' | 'tcc';
  /** At the highest level: orders/s, the better peer's, and the ratio (goal ≥ 1.5). */
  topLevel: number;
  ordersPerSecond: number;
  bestPeer: Subject | null;
  bestPeerOrdersPerSecond: number | null;
  throughputRatio: number | null;
  /** p99 ≤ 2 × p50 at every level. */
  tailWithinTwiceP50: boolean;
  /** p50 at the lowest level ≤ the better peer's p50 there. */
  p50AtLowest: number | null;
  bestPeerP50AtLowest: number | null;
  goals: string;
  met: boolean;
}

export interface E2eResult {
  at: string;
  machine: Machine;
  options: Omit<BenchOptions, 'urls'>;
  notes: string[];
  rows: LevelRow[];
  summary: Summary[];
  /** After each system: stock and money conserved (conservation.ts). */
  conservation: ({ system: string } & ConservationResult)[];
  /** Peak RSS per process over the whole run: VmHWM at the end (MiB). */
  peakRssMiB: Record<string, number> | null;
  memoryGoal: { goal: string; met: boolean | null };
  /** What each strategy holds between its phases (tradeoffs.ts); null if not measured. */
  tradeoffs: TradeoffResult | null;
}

/** The better peer at one level: the one with more orders/s. */
function bestPeerAt(rows: LevelRow[], concurrency: number): LevelRow | null {
  const peers = rows.filter((r) => r.concurrency === concurrency && PEERS.includes(r.subject));
  return peers.reduce<LevelRow | null>(
    (best, r) => (best === null || r.ordersPerSecond > best.ordersPerSecond ? r : best),
    null,
  );
}

/** Sets each row's ratios to the better peer and to the direct baseline at its level. */
export function fillRatios(rows: LevelRow[]): void {
  for (const row of rows) {
    const peer = bestPeerAt(rows, row.concurrency);
    const direct = rows.find((r) => r.subject === 'direct' && r.concurrency === row.concurrency);
    row.vsBestPeer =
      peer && peer.ordersPerSecond > 0 ? row.ordersPerSecond / peer.ordersPerSecond : null;
    row.vsDirect =
      direct && direct.ordersPerSecond > 0 ? row.ordersPerSecond / direct.ordersPerSecond : null;
  }
}

export function summarize(rows: LevelRow[]): Summary[] {
  const levels = [...new Set(rows.map((r) => r.concurrency))].sort((a, b) => a - b);
  if (levels.length === 0) return [];
  const [lowest, top] = [levels[0], levels[levels.length - 1]];
  return (['saga', 'tcc'] as const)
    .filter((strategy) => rows.some((r) => r.subject === strategy))
    .map((strategy) => {
      const at = (c: number) => rows.find((r) => r.subject === strategy && r.concurrency === c);
      const peerTop = bestPeerAt(rows, top);
      const peerLowest = bestPeerAt(rows, lowest);
      const ordersPerSecond = at(top)?.ordersPerSecond ?? 0;
      const throughputRatio =
        peerTop && peerTop.ordersPerSecond > 0 ? ordersPerSecond / peerTop.ordersPerSecond : null;
      const tailWithinTwiceP50 = levels.every((c) => {
        const row = at(c);
        return !!row && row.p50Ms !== null && row.p99Ms !== null && row.p99Ms <= 2 * row.p50Ms;
      });
      const p50AtLowest = at(lowest)?.p50Ms ?? null;
      const bestPeerP50AtLowest = peerLowest?.p50Ms ?? null;
      return {
        strategy,
        topLevel: top,
        ordersPerSecond,
        bestPeer: peerTop?.subject ?? null,
        bestPeerOrdersPerSecond: peerTop?.ordersPerSecond ?? null,
        throughputRatio,
        tailWithinTwiceP50,
        p50AtLowest,
        bestPeerP50AtLowest,
        goals: `orders/s at c = ${top} ≥ 1.5 × the better peer's; p99 ≤ 2 × p50 at every level; p50 at c = ${lowest} ≤ the better peer's`,
        met:
          throughputRatio !== null &&
          throughputRatio >= 1.5 &&
          tailWithinTwiceP50 &&
          p50AtLowest !== null &&
          bestPeerP50AtLowest !== null &&
          p50AtLowest <= bestPeerP50AtLowest,
      };
    });
}

const fixed = (v: number | null, digits = 1) => (v === null ? '–' : v.toFixed(digits));

/**
 * Postgres, Kafka and driver CPU ms per order, joined by `separator`: two decimals below 1 ms,
 * one above.
 */
const budgetCells = (b: CpuBudget | null, separator: string) =>
  b
    ? [b.postgresMsPerOrder, b.kafkaMsPerOrder, b.driverMsPerOrder]
        .map((v) => fixed(v, v !== null && Math.abs(v) < 1 ? 2 : 1))
        .join(separator)
    : '–';

/** "order 5.1, payment 2.2, …": the processes differ between systems, so they are named. */
const perProcess = (figures: Record<string, number> | null) =>
  figures
    ? Object.entries(figures)
        .map(([name, v]) => `${name} ${v}`)
        .join(', ')
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
      '× best peer': fixed(r.vsBestPeer, 2),
      '× direct': fixed(r.vsDirect, 2),
      'p50 ms': fixed(r.p50Ms, 0),
      'p95 ms': fixed(r.p95Ms, 0),
      'p99 ms': fixed(r.p99Ms, 0),
      'machine CPU ms/order': r.cpuBudget ? fixed(r.cpuBudget.machineMsPerOrder) : '–',
      'commits/order': fixed(r.commitsPerOrder),
      'kafka msgs/order': fixed(r.kafkaMessagesPerOrder),
      'CPU ms/order per process': perProcess(r.cpuMsPerOrder),
      'CPU ms/order pg/kafka/driver': budgetCells(r.cpuBudget, '/'),
      'busy %': r.cpuBudget ? fixed(r.cpuBudget.machineBusyPercent, 0) : '–',
      'cancel/err': `${r.cancelled}/${r.errors}`,
    })),
  );
  console.table(
    result.summary.map((s) => ({
      strategy: s.strategy,
      [`orders/s at ${s.topLevel}`]: fixed(s.ordersPerSecond),
      'better peer': s.bestPeer ?? '–',
      'its orders/s': fixed(s.bestPeerOrdersPerSecond),
      ratio: fixed(s.throughputRatio, 2),
      'p99 ≤ 2×p50': s.tailWithinTwiceP50 ? 'yes' : 'no',
      'p50 lowest level (peer)': `${fixed(s.p50AtLowest, 0)} (${fixed(s.bestPeerP50AtLowest, 0)})`,
      met: s.met ? 'yes' : 'NO',
    })),
  );
  for (const c of result.conservation) {
    console.log(
      `conservation, ${c.system}: ${c.ok ? 'ok' : 'VIOLATED'} (${c.checked.products} products, ${c.checked.accounts} accounts, ${c.checked.completedOrders} completed orders)` +
        (c.ok ? '' : `\n  ${c.violations.join('\n  ')}`),
    );
  }
  if (result.peakRssMiB) {
    console.log(
      `Peak RSS (VmHWM) per process: ${perProcess(result.peakRssMiB)} — goal ${result.memoryGoal.goal}: ${result.memoryGoal.met ? 'met' : 'NOT met'}`,
    );
  }
  for (const note of result.notes) console.log(`note: ${note}`);
}

/** The Markdown table bench/README.md shows. */
export function markdownTable(result: E2eResult): string {
  const lines = [
    '| system | concurrency | orders/s | × best peer | × direct | p50 ms | p95 ms | p99 ms | machine CPU ms/order | CPU ms/order per process | CPU ms/order (Postgres / Kafka / bench driver) | commits/order | Kafka msgs/order | machine busy % | peak RSS MiB per process | cancelled / errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---|---|',
  ];
  for (const r of result.rows) {
    const b = r.cpuBudget;
    lines.push(
      `| ${r.subject} | ${r.concurrency} | ${fixed(r.ordersPerSecond)} | ${fixed(r.vsBestPeer, 2)} | ${fixed(r.vsDirect, 2)} | ${fixed(r.p50Ms, 0)} | ${fixed(r.p95Ms, 0)} | ${fixed(r.p99Ms, 0)} | ${b ? fixed(b.machineMsPerOrder) : '–'} | ${perProcess(r.cpuMsPerOrder)} | ${budgetCells(b, ' / ')} | ${fixed(r.commitsPerOrder)} | ${fixed(r.kafkaMessagesPerOrder)} | ${b ? fixed(b.machineBusyPercent, 0) : '–'} | ${perProcess(r.peakRssMiB)} | ${r.cancelled} / ${r.errors} |`,
    );
  }
  lines.push('');
  for (const c of result.conservation) {
    lines.push(
      `Conservation, ${c.system}: ${c.ok ? 'ok' : 'VIOLATED: ' + c.violations.join('; ')} (${c.checked.products} products, ${c.checked.accounts} accounts, ${c.checked.completedOrders} completed orders).`,
    );
  }
  if (result.tradeoffs) lines.push('', tradeoffTables(result.tradeoffs));
  return lines.join('\n');
}
