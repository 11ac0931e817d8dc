// Redlock acquire+release latency and throughput against npm `redlock` 5.0.0-beta.2, on the same
// three Redis nodes (REDIS_NODES), in the same process and run, at the same concurrency.
//
//   npm run build && npx tsx bench/redlock.bench.ts   prints a table, writes bench/results/redlock.json
//
// Measure the compiled lib (libs/dist-core/dist, what services run), as the peer is compiled JS.
// With --conditions=source tsx loads our TypeScript through esbuild, whose keepNames wrapper on
// every closure costs ours 10–20 % here and says nothing about the library; the table header
// names which one was measured.
//
// - CONCURRENCY workers per library, each locking and unlocking its own resource in a loop: no
//   contention, so the figures are the cost of the algorithm (one script per node, quorum wait),
//   not of waiting for another holder. Ours also draws a fencing token in the same script.
// - Both libraries get clients with identical options (createRedlockClients), their own
//   connections, and the same ttl.
// - Rounds alternate between the libraries so that a noisy neighbour hurts both alike; p50 and
//   p99 are over every cycle of every round, locks/s is the median round.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { DEFAULTS, env, loadConfig } from '@app/dist-core/config';
import { Redlock, createRedlockClients } from '@app/dist-core/redlock';
import type { BenchRow } from './bench-row.js';

// redlock 5 beta's package.json "exports" hides its type declarations from nodenext resolution,
// so the part used here is typed by hand.
interface PeerLock {
  release(): Promise<unknown>;
}
interface PeerRedlock {
  acquire(resources: string[], duration: number): Promise<PeerLock>;
  quit(): Promise<void>;
}
const PeerRedlock = (
  createRequire(import.meta.url)('redlock') as {
    default: new (clients: Redis[]) => PeerRedlock;
  }
).default;

const PEER_NAME = 'redlock@5.0.0-beta.2';
const CONCURRENCY = 8;
const ROUNDS = 20;
const ROUND_MS = 500;
const WARM_UP_MS = 1000;
const TTL_MS = 10_000;

interface Contender {
  name: string;
  /** One acquire + release of `resource`. */
  cycle(resource: string): Promise<void>;
  quit(): Promise<void>;
}

function ours(urls: string[]): Contender {
  const redlock = new Redlock(createRedlockClients(urls));
  return {
    name: 'ours',
    async cycle(resource) {
      const lock = await redlock.acquire([resource], TTL_MS);
      await lock.release();
    },
    quit: () => redlock.quit(),
  };
}

function peer(urls: string[]): Contender {
  const redlock = new PeerRedlock(createRedlockClients(urls));
  return {
    name: PEER_NAME,
    async cycle(resource) {
      const lock = await redlock.acquire([resource], TTL_MS);
      await lock.release();
    },
    quit: () => redlock.quit(),
  };
}

interface Round {
  latenciesMs: number[];
  locksPerSecond: number;
}

/** CONCURRENCY workers cycling for `ms`; every cycle's latency, and cycles per second. */
async function round(contender: Contender, ms: number, tag: string): Promise<Round> {
  const latenciesMs: number[] = [];
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      const resource = `bench:redlock:${tag}:${contender.name}:${worker}`;
      while (performance.now() < end) {
        const cycleStart = performance.now();
        await contender.cycle(resource);
        latenciesMs.push(performance.now() - cycleStart);
      }
    }),
  );
  return { latenciesMs, locksPerSecond: (latenciesMs.length * 1000) / (performance.now() - start) };
}

function percentile(sample: readonly number[], p: number): number {
  const sorted = [...sample].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function median(values: readonly number[]): number {
  return percentile(values, 50);
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;
const round2 = (value: number) => Math.round(value * 100) / 100;

export async function run(): Promise<BenchRow[]> {
  const { REDIS_NODES } = loadConfig({ REDIS_NODES: env.redisUrls(DEFAULTS.REDIS_NODES) });
  const contenders = [ours(REDIS_NODES), peer(REDIS_NODES)];
  try {
    await sleep(500); // connections up
    const tag = Date.now().toString(36);
    for (const contender of contenders) await round(contender, WARM_UP_MS, `${tag}:warm`);

    const results = new Map(contenders.map((c) => [c.name, [] as Round[]]));
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which library goes first, too.
      const order = r % 2 === 0 ? contenders : [...contenders].reverse();
      for (const contender of order)
        results.get(contender.name)!.push(await round(contender, ROUND_MS, tag));
    }

    const summary = (name: string) => {
      const rounds = results.get(name)!;
      const latencies = rounds.flatMap((r) => r.latenciesMs);
      return {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        locksPerSecond: median(rounds.map((r) => r.locksPerSecond)),
      };
    };
    const us = summary('ours');
    const them = summary(PEER_NAME);
    const benchmark = `Redlock acquire+release, 3 nodes, ${CONCURRENCY} concurrent, uncontended`;
    return [
      {
        benchmark,
        metric: 'p50 ms (lower is better; ratio = ours / peer)',
        ours: round3(us.p50),
        peer: round3(them.p50),
        peerName: PEER_NAME,
        ratio: round2(us.p50 / them.p50),
        goal: "≤ peer's p50",
        met: us.p50 <= them.p50,
      },
      {
        benchmark,
        metric: 'p99 ms (lower is better; ratio = ours / peer)',
        ours: round3(us.p99),
        peer: round3(them.p99),
        peerName: PEER_NAME,
        ratio: round2(us.p99 / them.p99),
        goal: "≤ peer's p99",
        met: us.p99 <= them.p99,
      },
      {
        benchmark,
        metric: 'locks/s',
        ours: Math.round(us.locksPerSecond),
        peer: Math.round(them.locksPerSecond),
        peerName: PEER_NAME,
        ratio: round2(us.locksPerSecond / them.locksPerSecond),
        goal: "≥ peer's locks/s",
        met: us.locksPerSecond >= them.locksPerSecond,
      },
    ];
  } finally {
    await Promise.all(contenders.map((c) => c.quit()));
  }
}

function printTable(rows: BenchRow[]): void {
  console.table(
    rows.map((row) => ({
      metric: row.metric,
      ours: row.ours.toLocaleString('en'),
      peer: `${row.peer.toLocaleString('en')} (${row.peerName})`,
      ratio: `${row.ratio}×`,
      goal: row.goal,
      met: row.met ? 'yes' : 'NO',
    })),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = await run();
  const loaded = fileURLToPath(import.meta.resolve('@app/dist-core/redlock'));
  console.log(`${rows[0].benchmark} — ours loaded from ${loaded.slice(loaded.indexOf('libs/'))}`);
  printTable(rows);
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'redlock.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ node: process.version, at: new Date().toISOString(), rows }, null, 2)}\n`,
  );
  console.log(`written ${out}`);
}
