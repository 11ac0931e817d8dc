// Snowflake ids per second for one worker, as decimal strings, against two npm generators in
// the same process and run, and duplicates among 10M ids from each.
//
//   npx tsx --conditions=source bench/snowflake.bench.ts   prints a table, writes bench/results/snowflake.json
//
// (--conditions=source makes tsx load libs/dist-core from its TypeScript source; without it the
// lib resolves to libs/dist-core/dist, which is only as fresh as the last `npm run build`.)
// No Node flags are needed: the 10M ids of the duplicate count are kept as a BigUint64Array
// (80 MB), not as 10M strings.
//
// - ids/s: each generator issues ids for about a second per round; every id is read (charCodeAt of its
//   last digit, which also flattens our concatenated strings, so a consumer's cost is counted),
//   nothing is kept. Rounds are interleaved between generators so a noisy neighbour hurts all
//   alike; the figure is the median round.
// - duplicates: DUPLICATE_IDS ids per generator, issued in chunks of 65,536 at full speed (so a
//   generator that wraps its sequence within a millisecond does it here), converted to bigint
//   between chunks, sorted, adjacent equal values counted.
// - ceiling: 12 bits allow 4,096 ids per millisecond; a spinning loop counts how many distinct
//   milliseconds Date.now() shows per second on this machine right now (a descheduled process
//   misses some). 4,096 × that is what any correct single-worker generator can reach here.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Snowflake as SapphireSnowflake } from '@sapphire/snowflake';
import { SNOWFLAKE_EPOCH_MS, SnowflakeGenerator } from '@app/dist-core/snowflake';
import type { BenchRow } from './bench-row.js';

type NodejsSnowflake = { getUniqueID(): bigint };
const require = createRequire(import.meta.url);
const NodejsSnowflakeClass = (
  require('nodejs-snowflake') as {
    Snowflake: new (options: { custom_epoch: number; instance_id: number }) => NodejsSnowflake;
  }
).Snowflake;

const ROUND_SECONDS = 1;
const BATCH = 65_536;
const ROUNDS = 5;
const DUPLICATE_IDS = 10_000_000;
const CHUNK = 65_536;
const GOAL_IDS_PER_SECOND = 3_900_000; // 95% of the 4,096,000/s that 12 bits of sequence allow
const WORKER_ID = 1;

interface Contender {
  name: string;
  /** Issues `count` ids, reading each; returns a checksum so the work cannot be skipped. */
  issue(count: number): number;
  /** Issues `count` ids into `into`. */
  collect(into: string[], count: number): void;
}

// One loop per generator, not one loop calling each through a function value: a shared call
// site turns megamorphic and charges every generator a call none of them has in real use.
function ours(): Contender {
  const generator = new SnowflakeGenerator(WORKER_ID);
  return {
    name: 'ours',
    issue(count) {
      let sink = 0;
      for (let i = 0; i < count; i++) {
        const id = generator.nextId();
        sink += id.charCodeAt(id.length - 1);
      }
      return sink;
    },
    collect(into, count) {
      for (let i = 0; i < count; i++) into[i] = generator.nextId();
    },
  };
}

function sapphire(): Contender {
  const generator = new SapphireSnowflake(SNOWFLAKE_EPOCH_MS);
  generator.workerId = BigInt(WORKER_ID);
  return {
    name: '@sapphire/snowflake@3.5.5',
    issue(count) {
      let sink = 0;
      for (let i = 0; i < count; i++) {
        const id = generator.generate().toString();
        sink += id.charCodeAt(id.length - 1);
      }
      return sink;
    },
    collect(into, count) {
      for (let i = 0; i < count; i++) into[i] = generator.generate().toString();
    },
  };
}

function nodejsSnowflake(): Contender {
  const generator = new NodejsSnowflakeClass({
    custom_epoch: SNOWFLAKE_EPOCH_MS,
    instance_id: WORKER_ID,
  });
  return {
    name: 'nodejs-snowflake@2.0.1',
    issue(count) {
      let sink = 0;
      for (let i = 0; i < count; i++) {
        const id = generator.getUniqueID().toString();
        sink += id.charCodeAt(id.length - 1);
      }
      return sink;
    },
    collect(into, count) {
      for (let i = 0; i < count; i++) into[i] = generator.getUniqueID().toString();
    },
  };
}

/** Issues ids in batches for about ROUND_SECONDS; returns ids per second. */
function idsPerSecond(contender: Contender): number {
  const start = process.hrtime.bigint();
  let issued = 0;
  let seconds: number;
  do {
    if (contender.issue(BATCH) === 0) throw new Error(`${contender.name} issued nothing`);
    issued += BATCH;
    seconds = Number(process.hrtime.bigint() - start) / 1e9;
  } while (seconds < ROUND_SECONDS);
  return issued / seconds;
}

function duplicates(contender: Contender, total: number): number {
  const all = new BigUint64Array(total);
  const chunk = new Array<string>(CHUNK);
  for (let done = 0; done < total;) {
    const count = Math.min(CHUNK, total - done);
    contender.collect(chunk, count);
    for (let i = 0; i < count; i++) all[done + i] = BigInt(chunk[i]);
    done += count;
  }
  all.sort();
  let duplicated = 0;
  for (let i = 1; i < total; i++) if (all[i] === all[i - 1]) duplicated++;
  return duplicated;
}

/** 4,096 × the distinct milliseconds a spinning loop sees in `ms` of wall time, per second. */
function ceilingIdsPerSecond(ms: number): number {
  const start = Date.now();
  let last = start;
  let distinct = 0;
  for (;;) {
    const now = Date.now();
    if (now !== last) {
      last = now;
      distinct++;
      if (now - start >= ms) break;
    }
  }
  return (distinct * 4096 * 1000) / ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export interface SnowflakeBenchDetails {
  idsPerSecond: Record<string, number[]>;
  ceilingIdsPerSecond: number[];
  duplicates: Record<string, number>;
}

export let lastDetails: SnowflakeBenchDetails | undefined;

export async function run(): Promise<BenchRow[]> {
  const contenders = [ours(), sapphire(), nodejsSnowflake()];
  for (const contender of contenders) contender.issue(BATCH * 4); // warm-up: JIT

  const rates = new Map(contenders.map((c) => [c.name, [] as number[]]));
  const ceilings: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ceilings.push(ceilingIdsPerSecond(250));
    for (const contender of contenders) {
      rates.get(contender.name)!.push(idsPerSecond(contender));
    }
  }
  const duplicateCounts = new Map(contenders.map((c) => [c.name, duplicates(c, DUPLICATE_IDS)]));
  lastDetails = {
    idsPerSecond: Object.fromEntries(rates),
    ceilingIdsPerSecond: ceilings,
    duplicates: Object.fromEntries(duplicateCounts),
  };

  const oursRate = median(rates.get('ours')!);
  const oursDuplicates = duplicateCounts.get('ours')!;
  const rows: BenchRow[] = [];
  for (const peer of contenders.slice(1)) {
    const peerRate = median(rates.get(peer.name)!);
    rows.push({
      benchmark: 'Snowflake ids, one worker, as decimal strings',
      metric: 'ids/s',
      ours: Math.round(oursRate),
      peer: Math.round(peerRate),
      peerName: peer.name,
      ratio: Math.round((oursRate / peerRate) * 100) / 100,
      goal: `≥ ${GOAL_IDS_PER_SECOND.toLocaleString('en')} ids/s`,
      met: oursRate >= GOAL_IDS_PER_SECOND,
    });
  }
  // Not an npm peer: what this machine allowed while the benchmark ran, so that a figure under
  // the goal on a loaded machine can be told apart from a slow generator.
  const ceiling = median(ceilings);
  rows.push({
    benchmark: 'Snowflake ids, one worker, against what the machine allowed',
    metric: 'ids/s',
    ours: Math.round(oursRate),
    peer: Math.round(ceiling),
    peerName: 'ceiling: 4,096 × distinct ms a spinning loop saw per s',
    ratio: Math.round((oursRate / ceiling) * 100) / 100,
    goal: '≥ 0.95× ceiling',
    met: oursRate >= 0.95 * ceiling,
  });
  for (const peer of contenders.slice(1)) {
    const peerDuplicates = duplicateCounts.get(peer.name)!;
    rows.push({
      benchmark: `Snowflake duplicates in ${DUPLICATE_IDS.toLocaleString('en')} ids, one worker`,
      metric: 'duplicates (lower is better; ratio = ours / peer)',
      ours: oursDuplicates,
      peer: peerDuplicates,
      peerName: peer.name,
      ratio:
        peerDuplicates === 0
          ? oursDuplicates === 0
            ? 1
            : oursDuplicates
          : oursDuplicates / peerDuplicates,
      goal: '0 duplicates',
      met: oursDuplicates === 0,
    });
  }
  return rows;
}

function printTable(rows: BenchRow[]): void {
  console.table(
    rows.map((row) => ({
      benchmark: row.benchmark,
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
  printTable(rows);
  const details = lastDetails!;
  const fmt = (values: number[]) =>
    values.map((v) => Math.round(v).toLocaleString('en')).join(', ');
  console.log(
    `ceiling on this machine now (4,096 × distinct ms seen per s): ${fmt(details.ceilingIdsPerSecond)}`,
  );
  for (const [name, values] of Object.entries(details.idsPerSecond)) {
    console.log(`${name} ids/s per round: ${fmt(values)}`);
  }
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'snowflake.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ node: process.version, at: new Date().toISOString(), rows, details }, null, 2)}\n`,
  );
  console.log(`wrote ${out}`);
}
