/**
 * `npm run bench`: the end-to-end benchmark, the project beside its peers in one run. Each
 * system in BENCH_SYSTEMS runs every concurrency level, then stops before the next starts:
 *   - saga, tcc, 2pc: this project's built services on their own ports (3100-3102; BENCH_PORT_BASE
 *     moves them) against the default infrastructure, or running ones (BENCH_EXTERNAL=1 with
 *     BENCH_ORDER_URL, BENCH_PAYMENT_URL, BENCH_INVENTORY_URL);
 *   - direct, dbos, restate: the same flow as plain HTTP calls between three services (dtm's
 *     baseline), on DBOS Transact and on Restate (bench/peers/, peer-system.ts), each on fresh
 *     databases of its own, after its flow check (peer-flow-check.ts) passed;
 *   - baseline (only if listed): the business writes done by this process itself (baseline.ts).
 * Each level is a closed loop (closed-loop.ts) reporting completed orders/s, latency from the
 * order's creation to its terminal state (the order service's own clock, in its orders table),
 * commits and Kafka messages per order, the ratios to the better of DBOS and Restate and to the
 * direct baseline, each process' peak RSS and CPU per order, and the CPU per order of Postgres,
 * Kafka, the bench itself and the whole machine (cpu-budget.ts). After each system its stock and
 * money must be conserved (conservation.ts): a violation fails the run. Writes
 * bench/results/e2e.json, e2e.md and e2e.svg.
 *
 * Every order is one line of one unit, for a customer and a product with far more funds and
 * stock than the run can use: a throughput benchmark of the happy path, not of compensation
 * (the peers' flow check covers theirs; the project's tests cover its own).
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeerName } from '../peers/src/topology.js';
import { Baseline } from './baseline.js';
import { renderChart } from './chart.js';
import { percentile, runClosedLoop, sleep, type Outcome } from './closed-loop.js';
import { checkConservation, type ConservationResult } from './conservation.js';
import { cpuBudget, takeCpuSnapshot, type CpuSnapshot } from './cpu-budget.js';
import { BenchDatabases } from './databases.js';
import { BALANCE_CENTS, createFixtures, PRICE_CENTS, STOCK } from './fixtures.js';
import { FlowTopicOffsets } from './kafka-offsets.js';
import { describeMachine } from './machine.js';
import { readOptions, type Strategy } from './options.js';
import { checkPeerFlow, initialFigures } from './peer-flow-check.js';
import { PeerSystem, type PeerFixtures } from './peer-system.js';
import {
  fillRatios,
  markdownTable,
  printTable,
  summarize,
  type E2eResult,
  type LevelRow,
  type Subject,
} from './report.js';
import { BenchServices, readCpuMs, readMemory, RssSampler } from './services.js';
import { CompletionTracker, systemWork } from './system-driver.js';
import { measureTradeoffs, type TradeoffResult } from './tradeoffs.js';

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');
const MEMORY_GOAL_MIB = 200;

const options = readOptions();
const machine = describeMachine();
const notes: string[] = [
  'Happy path only: one line of one unit per order, each worker on its own customer and product (worker i uses the i-th mod BENCH_ACCOUNTS), stock and funds far above what the run uses.',
  'Latency: order createdAt → updatedAt (the order service’s clock, its orders table), for orders that became terminal inside the measured window. The project’s orders are found terminal by polling their shards; a peer’s order service answers the POST once the order is terminal.',
  'Each system runs alone: its processes start before its first level and stop after its last (the project’s services serve both saga and tcc).',
];
const log = (text: string) => process.stderr.write(`${text}\n`);
const checkout = process.env.BENCH_CHECKOUT ?? '.';
const commit = (() => {
  try {
    return execSync(`git -C ${checkout} rev-parse --short HEAD`, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
notes.push(
  `Services built from ${checkout === '.' ? 'this checkout' : checkout} at commit ${commit}` +
    (commit !== 'unknown' &&
    execSync(`git -C ${checkout} status --porcelain -- apps libs`, { encoding: 'utf8' }).trim()
      ? ' (with uncommitted changes)'
      : '') +
    `; Kafka ${process.env.KAFKA_BROKERS ?? 'default (127.0.0.1:9092)'}.`,
);

/** One system under test, started: what a level needs from it. */
interface Target {
  name: string;
  subjects: Subject[];
  /** Its processes by name; null when it has none the bench can see (external services). */
  pids: Map<string, number> | null;
  work: (subject: Subject) => (worker: number) => Promise<Outcome>;
  /** Commits on its databases (the bench's own reads subtracted) and Kafka messages so far. */
  counters: () => Promise<{ commits: number; messages: number | null }>;
  conservation: () => Promise<ConservationResult>;
  /** The project's strategies' trade-offs (tradeoffs.ts), measured after its levels. */
  tradeoffs?: () => Promise<TradeoffResult>;
  stop: () => Promise<void>;
}

/** The project's services (or external ones), with the old direct-writes baseline if asked. */
async function openProject(): Promise<Target> {
  let services: BenchServices | undefined;
  if (!options.external) {
    log(`starting the built services on ${options.portBase}-${options.portBase + 2}…`);
    services = await BenchServices.start(options.portBase, options.urls);
  } else {
    notes.push('External services: their RSS and CPU are not measured (no pid).');
  }
  const databases = new BenchDatabases(options.baselinePoolSize);
  const offsets = new FlowTopicOffsets();
  await offsets.connect();
  const tracker = new CompletionTracker(databases, options.pollIntervalMs);
  tracker.start();
  const withBaseline = options.systems.includes('baseline');
  const baseline = withBaseline ? await Baseline.open(databases) : null;
  const fixtures = await createFixtures(options.urls, options.accounts);

  // What the databases and topics see with no bench load: other users of the shared
  // infrastructure, and the services' own idle polling.
  const [c0, k0] = [await databases.commits(), await offsets.total()];
  await sleep(3000);
  const [c1, k1] = [await databases.commits(), await offsets.total()];
  notes.push(
    `Background before the project’s rows (no bench load, 3 s): ${((c1 - c0) / 3).toFixed(1)} commits/s, ${((k1 - k0) / 3).toFixed(1)} flow messages/s. The project’s commits and messages per order include whatever else ran on the shared infrastructure.`,
  );
  return {
    name: 'project',
    subjects: [...(withBaseline ? (['baseline'] as const) : []), ...options.strategies],
    pids: services ? new Map(services.pids()) : null,
    work: (subject) =>
      subject === 'baseline'
        ? baseline!.work(fixtures)
        : systemWork(options.urls.order, subject as Strategy, fixtures, tracker),
    counters: async () => ({
      commits: (await databases.commits()) - tracker.queries,
      messages: await offsets.total(),
    }),
    conservation: async () =>
      checkConservation(await databases.snapshot(fixtures.customers, fixtures.skus), {
        stockOf: () => STOCK,
        balanceOf: () => BALANCE_CENTS,
      }),
    // It kills and restarts the order service: only with services the bench started.
    tradeoffs:
      services && options.tradeoffs
        ? () =>
            measureTradeoffs(
              { urls: options.urls, databases, tracker, services: services! },
              options.strategies,
            )
        : undefined,
    stop: async () => {
      tracker.stop();
      await baseline?.close();
      await offsets.disconnect();
      await databases.end();
      await services?.stop();
    },
  };
}

/** A peer system on fresh databases, once its flow check passed. */
async function openPeer(name: PeerName): Promise<Target> {
  const fixtures: PeerFixtures = {
    customers: Array.from({ length: options.accounts }, (_, i) => `bench-c${i}`),
    skus: Array.from({ length: options.accounts }, (_, i) => `bench-p${i}`),
    stock: STOCK,
    balanceCents: BALANCE_CENTS,
    priceCents: PRICE_CENTS,
  };
  log(`starting ${name}…`);
  const system = await PeerSystem.start(name, fixtures);
  try {
    await checkPeerFlow(system, fixtures);
  } catch (error) {
    await system.stop();
    throw error;
  }
  log(`  ${name}: flow check passed`);
  return {
    name,
    subjects: [name],
    pids: system.pids(),
    work: () => system.work(fixtures),
    counters: async () => ({ commits: await system.commits(), messages: null }),
    conservation: async () => checkConservation(await system.snapshot(), initialFigures(fixtures)),
    stop: () => system.stop(),
  };
}

/** One subject at one level: the closed loop, with every counter read at the window's edges. */
async function measure(target: Target, subject: Subject, concurrency: number): Promise<LevelRow> {
  log(`${subject} at concurrency ${concurrency}…`);
  // The old baseline runs in this process: its CPU is the driver's.
  const pids = subject === 'baseline' ? null : target.pids;
  const cpu = (): Record<string, number> | null => {
    if (subject === 'baseline') {
      const usage = process.cpuUsage();
      return { bench: usage.user / 1000 + usage.system / 1000 };
    }
    if (!pids) return null;
    return Object.fromEntries([...pids].map(([name, pid]) => [name, readCpuMs(pid) ?? NaN]));
  };
  const rss = pids ? new RssSampler(pids) : null;
  rss?.start();
  let atStart = { commits: 0, messages: null as number | null };
  let delta = { commits: 0, messages: null as number | null };
  let cpuAtStart: Record<string, number> | null = null;
  let cpuUsed: Record<string, number> | null = null;
  let budgetAtStart: CpuSnapshot | null = null;
  let budgetAtEnd: CpuSnapshot | null = null;
  const loop = await runClosedLoop({
    concurrency,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    work: target.work(subject),
    onWindowStart: async () => {
      atStart = await target.counters();
      cpuAtStart = cpu();
      budgetAtStart = takeCpuSnapshot();
      rss?.reset();
    },
    onWindowEnd: async () => {
      const now = await target.counters();
      const cpuAtEnd = cpu();
      budgetAtEnd = takeCpuSnapshot();
      if (cpuAtStart && cpuAtEnd) {
        const start = cpuAtStart;
        cpuUsed = Object.fromEntries(Object.entries(cpuAtEnd).map(([k, v]) => [k, v - start[k]]));
      }
      delta = {
        commits: now.commits - atStart.commits,
        messages:
          now.messages === null || atStart.messages === null
            ? null
            : now.messages - atStart.messages,
      };
    },
  });
  rss?.stop();
  const latencies = loop.latenciesMs.sort((a, b) => a - b);
  const orders = loop.completed;
  const ordersPerSecond = orders / (options.durationMs / 1000);
  const used = cpuUsed as Record<string, number> | null;
  // The processes' CPU, for the budget's rest; the old baseline's own process is the driver.
  const processesMs =
    subject !== 'baseline' && used ? Object.values(used).reduce((a, b) => a + b, 0) : 0;
  const row: LevelRow = {
    subject,
    concurrency,
    ordersPerSecond,
    completed: loop.completed,
    cancelled: loop.cancelled,
    errors: loop.errors,
    firstError: loop.firstError,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    commitsPerOrder: orders > 0 ? delta.commits / orders : null,
    kafkaMessagesPerOrder: orders > 0 && delta.messages !== null ? delta.messages / orders : null,
    vsBestPeer: null,
    vsDirect: null,
    cpuMsPerOrder:
      used && orders > 0
        ? Object.fromEntries(
            Object.entries(used).map(([k, v]) => [k, Math.round((v / orders) * 10) / 10]),
          )
        : null,
    cpuBudget:
      budgetAtStart && budgetAtEnd
        ? cpuBudget(budgetAtStart, budgetAtEnd, orders, processesMs)
        : null,
    peakRssMiB: rss?.peak() ?? null,
    loadAverage: loadavg()[0],
  };
  log(
    `  ${ordersPerSecond.toFixed(1)} orders/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, ` +
      `machine ${row.cpuBudget?.machineMsPerOrder ?? '–'} CPU ms/order, ${row.commitsPerOrder?.toFixed(1)} commits/order` +
      (loop.errors ? `, ${loop.errors} errors (first: ${loop.firstError})` : ''),
  );
  return row;
}

const rows: LevelRow[] = [];
let tradeoffs: TradeoffResult | null = null;
const conservation: E2eResult['conservation'] = [];
const peakRssMiB: Record<string, number> = {};
const projectRss: number[] = [];

const openers: { name: string; open: () => Promise<Target> }[] = [];
if (options.strategies.length > 0 || options.systems.includes('baseline')) {
  openers.push({ name: 'project', open: openProject });
}
for (const peer of ['direct', 'dbos', 'restate'] as const) {
  if (options.systems.includes(peer)) openers.push({ name: peer, open: () => openPeer(peer) });
}

for (const { open } of openers) {
  const target = await open();
  try {
    for (const concurrency of options.concurrency) {
      for (const subject of target.subjects) rows.push(await measure(target, subject, concurrency));
    }
    const check = await target.conservation();
    conservation.push({ system: target.name, ...check });
    log(
      `  conservation, ${target.name}: ${check.ok ? 'ok' : `VIOLATED\n    ${check.violations.join('\n    ')}`}`,
    );
    for (const [name, pid] of target.pids ?? []) {
      const hwm = Math.round(readMemory(pid)?.hwmMiB ?? NaN);
      peakRssMiB[`${target.name} ${name}`] = hwm;
      if (target.name === 'project') projectRss.push(hwm);
    }
    // Last: it kills and restarts the order service, whose peak RSS was read above.
    if (target.tradeoffs) {
      log('trade-offs: what each strategy holds between its phases…');
      tradeoffs = await target.tradeoffs();
    }
  } finally {
    await target.stop();
  }
}
fillRatios(rows);

const { urls: _urls, ...recordedOptions } = options;
const result: E2eResult = {
  at: new Date().toISOString(),
  machine,
  options: recordedOptions,
  notes,
  rows,
  summary: summarize(rows),
  conservation,
  peakRssMiB: Object.keys(peakRssMiB).length ? peakRssMiB : null,
  memoryGoal: {
    goal: `each of the project's services ≤ ${MEMORY_GOAL_MIB} MB RSS under load`,
    met: projectRss.length ? projectRss.every((mib) => mib <= MEMORY_GOAL_MIB) : null,
  },
  tradeoffs,
};
printTable(result);

mkdirSync(RESULTS, { recursive: true });
const name = process.env.BENCH_RESULT_NAME ?? 'e2e';
writeFileSync(join(RESULTS, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
writeFileSync(join(RESULTS, `${name}.md`), markdownTable(result) + '\n');
const series = (subject: Subject, pick: (r: LevelRow) => number | null) =>
  options.concurrency.map((c) => {
    const row = rows.find((r) => r.subject === subject && r.concurrency === c);
    return row ? pick(row) : null;
  });
const COLORS: Record<Subject, string> = {
  saga: '#1f77b4',
  tcc: '#d62728',
  '2pc': '#9467bd',
  direct: '#7f7f7f',
  dbos: '#2ca02c',
  restate: '#9467bd',
  baseline: '#bcbd22',
};
const LABELS: Record<Subject, string> = {
  saga: 'this project, saga',
  tcc: 'this project, TCC',
  '2pc': 'this project, 2PC',
  direct: 'direct calls (no durability)',
  dbos: 'DBOS',
  restate: 'Restate',
  baseline: 'direct writes, one process',
};
const subjects = options.systems.filter((s) => rows.some((r) => r.subject === s));
writeFileSync(
  join(RESULTS, `${name}.svg`),
  renderChart(
    options.concurrency,
    [
      {
        title: 'Throughput',
        yLabel: 'completed orders/s',
        series: subjects.map((s) => ({
          name: LABELS[s],
          color: COLORS[s],
          values: series(s, (r) => r.ordersPerSecond),
        })),
      },
      {
        title: 'Latency, created → terminal',
        yLabel: 'ms (log scale)',
        log: true,
        series: subjects.flatMap((s) => [
          { name: `${s} p50`, color: COLORS[s], values: series(s, (r) => r.p50Ms) },
          { name: `${s} p99`, color: COLORS[s], dashed: true, values: series(s, (r) => r.p99Ms) },
        ]),
      },
      {
        title: 'CPU per order, whole machine',
        yLabel: 'CPU ms per completed order',
        series: subjects.map((s) => ({
          name: LABELS[s],
          color: COLORS[s],
          values: series(s, (r) => r.cpuBudget?.machineMsPerOrder ?? null),
        })),
      },
    ],
    `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; ${options.durationMs / 1000} s per level after ${options.warmupMs / 1000} s warm-up; ${result.at}`,
  ),
);
log(`\nwritten to ${join(RESULTS, `${name}.json`)}, ${name}.md and ${name}.svg`);

const violated = conservation.filter((c) => !c.ok);
if (violated.length > 0) {
  log(`\nCONSERVATION VIOLATED in ${violated.map((c) => c.system).join(', ')}: see above.`);
  process.exitCode = 1;
}
