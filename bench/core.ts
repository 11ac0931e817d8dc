/**
 * `npm run bench:core`: the three primitives of libs/dist-core against their named npm peers,
 * each measured in this run, side by side. Prints one table (ours, peer, ratio, goal, met?) and
 * writes bench/results/core.json. It measures the compiled library (dist/, built first), as a
 * service runs it: tsx-compiled source is wrapped and would look slower. Run on a quiet machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './bench-row.js';
import { run as hashring } from './hashring.bench.js';
import { run as redlock } from './redlock.bench.js';
import { run as snowflake } from './snowflake.bench.js';

function format(value: number): string {
  return value >= 1000 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

const machine = {
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadAverageAtStart: loadavg()[0],
};

const rows: BenchRow[] = [];
for (const [name, run] of [
  ['snowflake', snowflake],
  ['hashring', hashring],
  ['redlock', redlock],
] as const) {
  process.stderr.write(`running ${name}…\n`);
  rows.push(...(await run()));
}

console.log(
  `\nMachine: ${machine.cpus}, ${machine.memoryGiB} GiB, Node ${machine.node}, load ${machine.loadAverageAtStart.toFixed(1)}\n`,
);
console.table(
  rows.map((row) => ({
    benchmark: row.benchmark,
    metric: row.metric,
    ours: format(row.ours),
    peer: `${format(row.peer)} (${row.peerName})`,
    ratio: row.ratio.toFixed(2),
    goal: row.goal,
    met: row.met ? 'yes' : 'NO',
  })),
);

const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'core.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), machine, rows }, null, 2) + '\n');
console.log(`\nwritten to ${out}`);
