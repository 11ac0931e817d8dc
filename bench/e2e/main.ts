/**
 * `npm run bench`: the end-to-end benchmark. It starts the built services on their own ports
 * (3100-3102; BENCH_PORT_BASE moves them) against the default infrastructure, or drives running
 * ones (BENCH_EXTERNAL=1 with BENCH_ORDER_URL, BENCH_PAYMENT_URL, BENCH_INVENTORY_URL). For each
 * concurrency level it runs, side by side, the baseline (the same business writes done directly,
 * baseline.ts) and each strategy through the system, in a closed loop (closed-loop.ts), and
 * reports completed orders/s, latency from POST to terminal state (server timestamps), commits
 * and Kafka messages per order, S/B, each service's peak RSS, and CPU per order of each service,
 * of Postgres, Kafka, the bench itself and the whole machine (cpu-budget.ts). Writes
 * bench/results/e2e.json and bench/results/e2e.svg.
 *
 * Every order is one line of one unit, for a customer and a product with far more funds and
 * stock than the run can use: a throughput benchmark of the happy path, not of compensation.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Baseline } from './baseline.js';
import { renderChart } from './chart.js';
import { percentile, runClosedLoop, sleep, type Outcome } from './closed-loop.js';
import { cpuBudget, takeCpuSnapshot, type CpuBudget, type CpuSnapshot } from './cpu-budget.js';
import { BenchDatabases } from './databases.js';
import { createFixtures } from './fixtures.js';
import { FlowTopicOffsets } from './kafka-offsets.js';
import { describeMachine } from './machine.js';
import { readOptions } from './options.js';
import {
  markdownTable,
  printTable,
  summarize,
  type E2eResult,
  type LevelRow,
  type Subject,
} from './report.js';
import { BenchServices, readCpuMs, readMemory, RssSampler } from './services.js';
import { CompletionTracker, systemWork } from './system-driver.js';

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');
const MEMORY_GOAL_MIB = 200;

const options = readOptions();
const machine = describeMachine();
const notes: string[] = [
  'Happy path only: one line of one unit per order, each worker on its own customer and product (worker i uses the i-th mod BENCH_ACCOUNTS), stock and funds far above what the run uses.',
  'Latency: order createdAt → updatedAt (server clock), for orders that became terminal inside the measured window.',
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

let services: BenchServices | undefined;
if (!options.external) {
  log(`starting the built services on ${options.portBase}-${options.portBase + 2}…`);
  services = await BenchServices.start(options.portBase, options.urls);
} else {
  notes.push('External services: their RSS is not measured (no pid).');
}
const rss = services ? new RssSampler(services.pids()) : null;
rss?.start();

const databases = new BenchDatabases(options.baselinePoolSize);
const offsets = new FlowTopicOffsets();
await offsets.connect();
const tracker = new CompletionTracker(databases, options.pollIntervalMs);
tracker.start();
const baseline = await Baseline.open(databases);
const fixtures = await createFixtures(options.urls, options.accounts);

// What the databases and topics see with no bench load: other users of the shared
// infrastructure, and the services' own idle polling.
{
  const [c0, k0] = [await databases.commits(), await offsets.total()];
  await sleep(3000);
  const [c1, k1] = [await databases.commits(), await offsets.total()];
  notes.push(
    `Background before the run (no bench load, 3 s): ${((c1 - c0) / 3).toFixed(1)} commits/s, ${((k1 - k0) / 3).toFixed(1)} flow messages/s. Commits and messages per order include whatever else ran on the shared infrastructure.`,
  );
}

const rows: LevelRow[] = [];
for (const concurrency of options.concurrency) {
  const subjects: Subject[] = ['baseline', ...options.strategies];
  for (const subject of subjects) {
    log(`${subject} at concurrency ${concurrency}…`);
    const work: (worker: number) => Promise<Outcome> =
      subject === 'baseline'
        ? baseline.work(fixtures)
        : systemWork(options.urls.order, subject, fixtures, tracker);
    const at = { commits: 0, messages: 0, queries: 0 };
    const delta = { commits: 0, messages: 0, queries: 0 };
    const cpu = (): Record<string, number> | null => {
      if (subject === 'baseline')
        return { bench: process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 };
      if (!services) return null;
      return Object.fromEntries(
        [...services.pids()].map(([name, pid]) => [name, readCpuMs(pid) ?? NaN]),
      );
    };
    let cpuAtStart: Record<string, number> | null = null;
    let cpuUsed: Record<string, number> | null = null;
    let budgetAtStart: CpuSnapshot | null = null;
    let budgetAtEnd: CpuSnapshot | null = null;
    const read = async () => ({
      commits: await databases.commits(),
      messages: await offsets.total(),
      queries: tracker.queries,
    });
    const loop = await runClosedLoop({
      concurrency,
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      work,
      onWindowStart: async () => {
        Object.assign(at, await read());
        cpuAtStart = cpu();
        budgetAtStart = takeCpuSnapshot();
        rss?.reset();
      },
      onWindowEnd: async () => {
        const now = await read();
        const cpuAtEnd = cpu();
        budgetAtEnd = takeCpuSnapshot();
        if (cpuAtStart && cpuAtEnd) {
          const start = cpuAtStart;
          cpuUsed = Object.fromEntries(Object.entries(cpuAtEnd).map(([k, v]) => [k, v - start[k]]));
        }
        delta.commits = now.commits - at.commits - (now.queries - at.queries);
        delta.messages = now.messages - at.messages;
      },
    });
    const latencies = loop.latenciesMs.sort((a, b) => a - b);
    const orders = loop.completed;
    const ordersPerSecond = orders / (options.durationMs / 1000);
    // The services' CPU, for the budget's rest; the baseline's own process is the driver.
    const servicesMs =
      subject !== 'baseline' && cpuUsed
        ? Object.values(cpuUsed as Record<string, number>).reduce((a, b) => a + b, 0)
        : 0;
    const budget: CpuBudget | null =
      budgetAtStart && budgetAtEnd
        ? cpuBudget(budgetAtStart, budgetAtEnd, orders, servicesMs)
        : null;
    const baselineRow = rows.find((r) => r.subject === 'baseline' && r.concurrency === concurrency);
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
      kafkaMessagesPerOrder: orders > 0 ? delta.messages / orders : null,
      cpuMsPerOrder:
        cpuUsed && orders > 0
          ? Object.fromEntries(
              Object.entries(cpuUsed as Record<string, number>).map(([k, v]) => [
                k,
                Math.round((v / orders) * 10) / 10,
              ]),
            )
          : null,
      cpuBudget: budget,
      sOverB:
        subject !== 'baseline' && baselineRow && baselineRow.ordersPerSecond > 0
          ? ordersPerSecond / baselineRow.ordersPerSecond
          : null,
      peakRssMiB: rss?.peak() ?? null,
      loadAverage: loadavg()[0],
    };
    rows.push(row);
    log(
      `  ${ordersPerSecond.toFixed(1)} orders/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, ` +
        `${row.commitsPerOrder?.toFixed(1)} commits/order, ${row.kafkaMessagesPerOrder?.toFixed(1)} msgs/order` +
        (loop.errors ? `, ${loop.errors} errors (first: ${loop.firstError})` : ''),
    );
  }
}

let peakRssMiB: Record<string, number> | null = null;
if (services) {
  peakRssMiB = {};
  for (const [name, pid] of services.pids()) {
    peakRssMiB[name] = Math.round(readMemory(pid)?.hwmMiB ?? NaN);
  }
}
rss?.stop();
tracker.stop();
await baseline.close();
await offsets.disconnect();
await databases.end();
await services?.stop();

const { urls: _urls, ...recordedOptions } = options;
const result: E2eResult = {
  at: new Date().toISOString(),
  machine,
  options: recordedOptions,
  notes,
  rows,
  summary: summarize(rows),
  peakRssMiB,
  memoryGoal: {
    goal: `each service ≤ ${MEMORY_GOAL_MIB} MB RSS under load`,
    met: peakRssMiB ? Object.values(peakRssMiB).every((mib) => mib <= MEMORY_GOAL_MIB) : null,
  },
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
const COLORS: Record<Subject, string> = { saga: '#1f77b4', tcc: '#d62728', baseline: '#7f7f7f' };
const subjects: Subject[] = [...options.strategies, 'baseline'];
writeFileSync(
  join(RESULTS, `${name}.svg`),
  renderChart(
    options.concurrency,
    [
      {
        title: 'Throughput',
        yLabel: 'completed orders/s',
        series: subjects.map((s) => ({
          name: s === 'baseline' ? 'baseline (direct writes)' : `system, ${s}`,
          color: COLORS[s],
          values: series(s, (r) => r.ordersPerSecond),
        })),
      },
      {
        title: 'Latency, POST → terminal',
        yLabel: 'ms (log scale)',
        log: true,
        series: subjects.flatMap((s) => [
          { name: `${s} p50`, color: COLORS[s], values: series(s, (r) => r.p50Ms) },
          { name: `${s} p99`, color: COLORS[s], dashed: true, values: series(s, (r) => r.p99Ms) },
        ]),
      },
    ],
    `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; ${options.durationMs / 1000} s per level after ${options.warmupMs / 1000} s warm-up; ${result.at}`,
  ),
);
log(`\nwritten to ${join(RESULTS, `${name}.json`)}, ${name}.md and ${name}.svg`);
