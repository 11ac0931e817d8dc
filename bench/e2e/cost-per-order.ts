/**
 * What one order costs in work that does not depend on the machine's load: SQL statements,
 * local transactions (commits), Kafka messages and Kafka requests (Produce among them), per
 * process and per strategy; plus CPU ms per order, which does depend on load (noisy on a shared
 * machine, kept for orientation).
 *
 *   npm run build && flock /tmp/nest-tests.lock npx tsx bench/e2e/cost-per-order.ts
 *
 * Starts the built services as `npm run bench` does (bench/e2e/services.ts, ports 3100-3102),
 * each with cost-probe.mjs preloaded, which counts the statements each process sends and the
 * requests its Kafka client makes. For each strategy: a warm-up, then an idle window (the
 * background rate of the services' own polling, subtracted), then COST_ORDERS orders at
 * COST_CONCURRENCY in flight (each worker waits for its order to be terminal before the next).
 * Also reads the databases' xact_commit (pg_stat_database, bench polls subtracted) as a
 * cross-check of the probe's commits. Writes bench/results/cost-per-order[-NAME].json.
 *
 * Variables: COST_ORDERS (200), COST_CONCURRENCY (1; a list such as 1,16,64 runs each),
 * COST_STRATEGIES (saga,tcc), COST_WARMUP (20 orders), COST_IDLE_S (3), COST_PROBE_TEXTS=1
 * (also print the most frequent statements per order), COST_NAME (suffix of the result file).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './closed-loop.js';
import { fetchToken } from '../../scripts/token-client.mjs';
import { BenchDatabases } from './databases.js';
import { createFixtures } from './fixtures.js';
import { FlowTopicOffsets } from './kafka-offsets.js';
import { readOptions, type Strategy } from './options.js';
import { BenchServices, readCpuMs, type ServiceName } from './services.js';
import { CompletionTracker, systemWork } from './system-driver.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(HERE, '..', 'results');
const log = (text: string) => process.stderr.write(`${text}\n`);
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const ORDERS = num('COST_ORDERS', 200);
const WARMUP = num('COST_WARMUP', 20);
const IDLE_MS = num('COST_IDLE_S', 3) * 1000;
const LEVELS = (process.env.COST_CONCURRENCY ?? '1').split(',').map(Number);
const STRATEGIES = (process.env.COST_STRATEGIES ?? 'saga,tcc').split(',') as Strategy[];
const WITH_TEXTS = process.env.COST_PROBE_TEXTS === '1';

interface DbFigures {
  statements: number;
  begin: number;
  commit: number;
  rollback: number;
  savepoint: number;
  autocommit: number;
}
interface ProbeDump {
  databases: Record<string, DbFigures>;
  kafka: Record<string, number>;
  texts: Record<string, number>;
}
/** Everything counted at one instant. */
interface Snapshot {
  at: number;
  probes: Map<ServiceName, ProbeDump>;
  cpuMs: Map<ServiceName, number>;
  messages: number;
  xactCommits: number;
}

/** Per order (or per second for the background): per process, and the sums. */
interface Cost {
  statements: number;
  transactions: number;
  savepoints: number;
  messages: number;
  produceRequests: number;
  kafkaRequests: number;
  xactCommits: number;
  perProcess: Record<
    string,
    { statements: number; transactions: number; produce: number; kafka: number; cpuMs: number }
  >;
  cpuMs: number;
}

const probeDir = mkdtempSync(join(tmpdir(), 'cost-probe-'));
const options = readOptions();
// The probe goes in through the services' node flags (services.ts reads BENCH_NODE_FLAGS).
process.env.BENCH_NODE_FLAGS = `--max-old-space-size=128 --import=${join(HERE, 'cost-probe.mjs')}`;
const services = await BenchServices.start(options.portBase, options.urls, {
  COST_PROBE_DIR: probeDir,
});
const pids = services.pids();
const databases = new BenchDatabases(2);
const offsets = new FlowTopicOffsets();
await offsets.connect();
const tracker = new CompletionTracker(databases, options.pollIntervalMs);
tracker.start();

async function snapshot(): Promise<Snapshot> {
  const stamp = Date.now();
  for (const pid of pids.values()) process.kill(pid, 'SIGWINCH');
  await sleep(300);
  const probes = new Map<ServiceName, ProbeDump>();
  const cpuMs = new Map<ServiceName, number>();
  for (const [name, pid] of pids) {
    probes.set(name, JSON.parse(readFileSync(join(probeDir, `${pid}.json`), 'utf8')) as ProbeDump);
    cpuMs.set(name, readCpuMs(pid) ?? 0);
  }
  return {
    at: stamp,
    probes,
    cpuMs,
    messages: await offsets.total(),
    xactCommits: (await databases.commits()) - tracker.queries,
  };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/**
 * The batch layer's histogram of each service (kafka_batch_transaction_messages, all consumer
 * groups): batch commits and the messages they carried so far. Zero where it does not exist.
 */
async function batchTotals(): Promise<Record<string, { commits: number; messages: number }>> {
  const totals: Record<string, { commits: number; messages: number }> = {};
  const authorization = `Bearer ${await fetchToken({ operator: true })}`;
  for (const [name, url] of Object.entries(options.urls)) {
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization } })).text();
    const total = (series: string) =>
      sum(
        text
          .split('\n')
          .filter((line) => line.startsWith(`kafka_batch_transaction_messages_${series}`))
          .map((line) => Number(line.split(' ').at(-1))),
      );
    totals[name] = { commits: total('count'), messages: total('sum') };
  }
  return totals;
}

function difference(before: Snapshot, after: Snapshot, per: number): Cost {
  const perProcess: Cost['perProcess'] = {};
  const texts = new Map<string, number>();
  for (const [name, dump] of after.probes) {
    const old = before.probes.get(name)!;
    const dbs = Object.entries(dump.databases);
    const delta = (field: keyof DbFigures) =>
      sum(dbs.map(([db, f]) => f[field] - (old.databases[db]?.[field] ?? 0)));
    const kafka = (api?: string) =>
      sum(
        Object.entries(dump.kafka)
          .filter(([a]) => api === undefined || a === api)
          .map(([a, n]) => n - (old.kafka[a] ?? 0)),
      );
    perProcess[name] = {
      statements: delta('statements') / per,
      transactions: (delta('commit') + delta('autocommit')) / per,
      produce: kafka('Produce') / per,
      kafka: kafka() / per,
      cpuMs: (after.cpuMs.get(name)! - before.cpuMs.get(name)!) / per,
    };
    for (const [text, n] of Object.entries(dump.texts)) {
      const d = n - (old.texts[text] ?? 0);
      if (d > 0) texts.set(`${name} ${text}`, d);
    }
  }
  const all = Object.values(perProcess);
  const cost: Cost = {
    statements: sum(all.map((p) => p.statements)),
    transactions: sum(all.map((p) => p.transactions)),
    savepoints: 0,
    messages: (after.messages - before.messages) / per,
    produceRequests: sum(all.map((p) => p.produce)),
    kafkaRequests: sum(all.map((p) => p.kafka)),
    xactCommits: (after.xactCommits - before.xactCommits) / per,
    perProcess,
    cpuMs: sum(all.map((p) => p.cpuMs)),
  };
  if (WITH_TEXTS && per === ORDERS) {
    for (const [text, n] of [...texts].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
      log(`${(n / per).toFixed(2).padStart(7)}  ${text}`);
    }
  }
  return cost;
}

/** `cost` less the background rate over `seconds`, spread over `orders`. */
function lessBackground(cost: Cost, background: Cost, seconds: number, orders: number): Cost {
  const k = seconds / orders;
  const net = (a: number, b: number) => a - b * k;
  const perProcess: Cost['perProcess'] = {};
  for (const [name, p] of Object.entries(cost.perProcess)) {
    const b = background.perProcess[name];
    perProcess[name] = {
      statements: net(p.statements, b.statements),
      transactions: net(p.transactions, b.transactions),
      produce: net(p.produce, b.produce),
      kafka: net(p.kafka, b.kafka),
      cpuMs: net(p.cpuMs, b.cpuMs),
    };
  }
  return {
    statements: net(cost.statements, background.statements),
    transactions: net(cost.transactions, background.transactions),
    savepoints: 0,
    messages: net(cost.messages, background.messages),
    produceRequests: net(cost.produceRequests, background.produceRequests),
    kafkaRequests: net(cost.kafkaRequests, background.kafkaRequests),
    xactCommits: net(cost.xactCommits, background.xactCommits),
    perProcess,
    cpuMs: cost.cpuMs,
  };
}

async function place(strategy: Strategy, orders: number, concurrency: number, fixtures: Fixtures) {
  const work = systemWork(options.urls.order, strategy, fixtures, tracker);
  let next = 0;
  let completed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < orders) {
        next += 1;
        if ((await work(worker)).completed) completed += 1;
      }
    }),
  );
  if (completed !== orders) throw new Error(`${orders - completed} orders did not complete`);
}

type Fixtures = Awaited<ReturnType<typeof createFixtures>>;
const rows: Record<string, unknown>[] = [];
try {
  const fixtures = await createFixtures(options.urls, Math.max(...LEVELS));
  for (const strategy of STRATEGIES) {
    for (const concurrency of LEVELS) {
      await place(strategy, WARMUP, concurrency, fixtures);
      await sleep(1500);
      const idle0 = await snapshot();
      await sleep(IDLE_MS);
      const idle1 = await snapshot();
      const idleSeconds = (idle1.at - idle0.at) / 1000;
      const background = difference(idle0, idle1, idleSeconds);
      const batchesBefore = await batchTotals();
      const start = await snapshot();
      const began = Date.now();
      await place(strategy, ORDERS, concurrency, fixtures);
      // The last hops' mark-sent updates and a settlement still run after the order is terminal.
      await sleep(1500);
      const end = await snapshot();
      const seconds = (end.at - start.at) / 1000;
      const raw = difference(start, end, ORDERS);
      const cost = lessBackground(raw, background, seconds, ORDERS);
      const batchesAfter = await batchTotals();
      // Messages per batch transaction, per service, over this level (batches of 1 included).
      const batches = Object.fromEntries(
        Object.entries(batchesAfter).map(([name, after]) => {
          const commits = after.commits - batchesBefore[name].commits;
          const messages = after.messages - batchesBefore[name].messages;
          return [name, { commits, messages, mean: commits ? messages / commits : 0 }];
        }),
      );
      const row = {
        strategy,
        concurrency,
        orders: ORDERS,
        seconds: Number(seconds.toFixed(1)),
        ordersPerSecond: Number((ORDERS / ((Date.now() - began) / 1000)).toFixed(1)),
        ...cost,
        batches,
        background,
      };
      rows.push(row);
      log(
        `${strategy} c=${concurrency}: ${cost.statements.toFixed(1)} statements, ` +
          `${cost.transactions.toFixed(2)} transactions (xact_commit ${cost.xactCommits.toFixed(2)}), ` +
          `${cost.messages.toFixed(2)} messages, ${cost.produceRequests.toFixed(2)} produce requests ` +
          `(${cost.kafkaRequests.toFixed(1)} Kafka requests), ${cost.cpuMs.toFixed(1)} service CPU ms per order`,
      );
      for (const [name, p] of Object.entries(cost.perProcess)) {
        log(
          `  ${name.padEnd(9)} ${p.statements.toFixed(1).padStart(5)} stmts ` +
            `${p.transactions.toFixed(2).padStart(5)} tx ${p.produce.toFixed(2).padStart(5)} produce ` +
            `${p.kafka.toFixed(1).padStart(5)} kafka req ${p.cpuMs.toFixed(1).padStart(5)} CPU ms`,
        );
      }
      log(
        `  messages per batch commit: ${Object.entries(batches)
          .map(([name, b]) => `${name} ${b.mean.toFixed(2)} (${b.commits} commits)`)
          .join(', ')}`,
      );
      log(
        `  background/s: ${background.statements.toFixed(1)} stmts ${background.transactions.toFixed(1)} tx ` +
          `${background.kafkaRequests.toFixed(1)} kafka req`,
      );
    }
  }
} finally {
  tracker.stop();
  await offsets.disconnect();
  await databases.end();
  await services.stop();
}

mkdirSync(RESULTS, { recursive: true });
const name = process.env.COST_NAME ? `cost-per-order-${process.env.COST_NAME}` : 'cost-per-order';
writeFileSync(join(RESULTS, `${name}.json`), `${JSON.stringify(rows, null, 2)}\n`);
console.table(
  rows.map((r) => ({
    strategy: r.strategy,
    c: r.concurrency,
    statements: (r.statements as number).toFixed(1),
    transactions: (r.transactions as number).toFixed(2),
    xact_commit: (r.xactCommits as number).toFixed(2),
    messages: (r.messages as number).toFixed(2),
    produce: (r.produceRequests as number).toFixed(2),
    kafkaReq: (r.kafkaRequests as number).toFixed(1),
    cpuMs: (r.cpuMs as number).toFixed(1),
    'orders/s': r.ordersPerSecond,
  })),
);
