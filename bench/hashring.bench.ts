// Hash ring lookups per second: our HashRing against npm `hashring` 3.2.0 (ketama-compatible,
// 160 points per server, md5 per uncached lookup, LRU of 5,000) in the same process and run.
//
//   npx tsx bench/hashring.bench.ts          prints a table, writes bench/results/hashring.json
//
// Two workloads, each in its own process: 1M distinct Snowflake-like ids (every lookup is a
// miss for any cache: this is the ring itself) and 100 hot ids looked up 10,000 times each (what
// a cache is for). Each figure is the median of several timed rounds after a warm-up round,
// ours and the peer's rounds interleaved so a noisy neighbour hurts both alike.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { HashRing } from '@app/dist-core/hashing';
import type { BenchRow } from './bench-row.js';

type PeerRing = { get(key: string): string };
const require = createRequire(import.meta.url);
const execFileAsync = promisify(execFile);
const PeerHashRing = require('hashring') as new (servers: string[]) => PeerRing;

const SHARDS = ['shard-0', 'shard-1', 'shard-2'];
const DISTINCT_KEYS = 1_000_000;
const HOT_KEYS = 100;
const HOT_REPEATS = 10_000;
/** Timed rounds per side: few for the slow 1M-key pass, more for the short hot-key pass. */
const DISTINCT_ROUNDS = 3;
const HOT_ROUNDS = 9;

function snowflakeLikeIds(count: number): string[] {
  // Increasing ids with random gaps, as a Snowflake generator hands them out.
  const ids = new Array<string>(count);
  let id = 7_300_000_000_000_000_000n;
  for (let i = 0; i < count; i++) {
    id += BigInt(1 + Math.floor(Math.random() * 4_000_000));
    ids[i] = id.toString();
  }
  return ids;
}

// One loop per implementation, not one loop calling either through a function value: a shared
// call site turns megamorphic and charges both sides a call that neither has in real use.
function oursPass(ring: HashRing, keys: string[], repeats: number): number {
  let sink = 0;
  for (let r = 0; r < repeats; r++) {
    for (let i = 0; i < keys.length; i++) sink += ring.owner(keys[i]).length;
  }
  return sink;
}

function peerPass(ring: PeerRing, keys: string[], repeats: number): number {
  let sink = 0;
  for (let r = 0; r < repeats; r++) {
    for (let i = 0; i < keys.length; i++) sink += ring.get(keys[i]).length;
  }
  return sink;
}

/** Lookups per second of `pass`, which looks up `lookups` keys. */
function lookupsPerSecond(pass: () => number, lookups: number): number {
  const start = process.hrtime.bigint();
  const sink = pass();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink === 0) throw new Error('lookups returned nothing');
  return lookups / seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function compare(
  benchmark: string,
  keys: string[],
  repeats: number,
  rounds: number,
  goalRatio: number,
): BenchRow {
  const ours = new HashRing(SHARDS);
  const peer = new PeerHashRing(SHARDS);
  oursPass(ours, keys, 1); // warm-up: JIT and caches
  peerPass(peer, keys, 1);
  const lookups = keys.length * repeats;
  const oursRounds: number[] = [];
  const peerRounds: number[] = [];
  for (let round = 0; round < rounds; round++) {
    oursRounds.push(lookupsPerSecond(() => oursPass(ours, keys, repeats), lookups));
    peerRounds.push(lookupsPerSecond(() => peerPass(peer, keys, repeats), lookups));
  }
  const oursRate = median(oursRounds);
  const peerRate = median(peerRounds);
  const ratio = oursRate / peerRate;
  return {
    benchmark,
    metric: 'lookups/s',
    ours: Math.round(oursRate),
    peer: Math.round(peerRate),
    peerName: 'hashring@3.2.0',
    ratio: Math.round(ratio * 100) / 100,
    goal: `≥ ${goalRatio}× hashring`,
    met: ratio >= goalRatio,
  };
}

const WORKLOADS = {
  distinct: () =>
    compare(
      `hash ring, ${DISTINCT_KEYS.toLocaleString('en')} distinct ids, 3 shards`,
      snowflakeLikeIds(DISTINCT_KEYS),
      1,
      DISTINCT_ROUNDS,
      3,
    ),
  hot: () =>
    compare(
      `hash ring, ${HOT_KEYS} hot ids × ${HOT_REPEATS.toLocaleString('en')}, 3 shards`,
      snowflakeLikeIds(HOT_KEYS),
      HOT_REPEATS,
      HOT_ROUNDS,
      1,
    ),
};
type Workload = keyof typeof WORKLOADS;

/**
 * Each workload runs in a fresh process (same runtime flags), for both rings alike. In one
 * process the 1M-key pass leaves its JIT feedback and a 1M-string heap behind, and the hot-key
 * figures that follow it swing by 2× from run to run, for whichever ring is measured.
 */
async function inFreshProcess(workload: Workload): Promise<BenchRow> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--workload', workload],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as BenchRow;
}

export async function run(): Promise<BenchRow[]> {
  // Sanity: both rings must route keys to the same set of shards.
  const ours = new HashRing(SHARDS);
  const peer = new PeerHashRing(SHARDS);
  for (const key of snowflakeLikeIds(1_000)) {
    if (!SHARDS.includes(ours.owner(key)) || !SHARDS.includes(peer.get(key))) {
      throw new Error(`lookup of ${key} returned an unknown shard`);
    }
  }
  return [await inFreshProcess('distinct'), await inFreshProcess('hot')];
}

function printTable(rows: BenchRow[]): void {
  console.table(
    rows.map((row) => ({
      benchmark: row.benchmark,
      metric: row.metric,
      ours: row.ours.toLocaleString('en'),
      [row.peerName]: row.peer.toLocaleString('en'),
      ratio: `${row.ratio}×`,
      goal: row.goal,
      met: row.met ? 'yes' : 'NO',
    })),
  );
}

const workloadArg = process.argv.indexOf('--workload');
if (workloadArg !== -1) {
  const workload = process.argv[workloadArg + 1] as Workload;
  if (!(workload in WORKLOADS)) throw new Error(`unknown workload ${workload}`);
  console.log(JSON.stringify(WORKLOADS[workload]()));
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = await run();
  printTable(rows);
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'hashring.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ node: process.version, at: new Date().toISOString(), rows }, null, 2)}\n`,
  );
  console.log(`wrote ${out}`);
}
