#!/usr/bin/env node
// Runs the three built services in the foreground with prefixed logs; Ctrl-C (or SIGTERM)
// stops all of them gracefully. If one service exits on its own, the others are stopped too,
// so a broken start is never mistaken for a running system.
//
// `--watch` (npm run start:dev): each service runs under `nest start <service> --watch`, which
// rebuilds it (and the lib, see scripts/nest/build-lib-first.cjs) and restarts it on a change.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

const SERVICES = [
  ['order', '\x1b[36m'],
  ['payment', '\x1b[35m'],
  ['inventory', '\x1b[33m'],
];
const RESET = '\x1b[0m';
const color = process.stdout.isTTY;

const watch = process.argv.includes('--watch');
const NEST = 'node_modules/@nestjs/cli/bin/nest.js';

for (const [name] of watch ? [] : SERVICES) {
  if (!existsSync(`dist/apps/${name}/main.js`)) {
    console.error(`dist/apps/${name}/main.js is missing: run \`npm run build\` first.`);
    process.exit(1);
  }
}

let stopping = false;
let exitCode = 0;
// A 128 MiB old space: the live heap under load is ~60 MiB, and without a cap V8 lets garbage
// pile up to several times that before a full collection (README: Ports, URLs and memory).
const NODE_FLAGS = ['--max-old-space-size=128'];

const children = SERVICES.map(([name, tint]) => {
  const args = watch
    ? [NEST, 'start', name, '--watch', '--preserveWatchOutput']
    : [...NODE_FLAGS, `dist/apps/${name}/main.js`];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  const prefix = color ? `${tint}[${name}]${RESET} ` : `[${name}] `;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) =>
      process.stdout.write(prefix + line + '\n'),
    );
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`${prefix}exited (${signal ?? code})\n`);
    if (!stopping) {
      exitCode = code || 1;
      stopAll('SIGTERM');
    }
  });
  return child;
});

function stopAll(signal) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
  // A service that ignores SIGTERM for 10 s is killed.
  setTimeout(
    () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')),
    10_000,
  ).unref();
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll('SIGTERM'));
await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))));
process.exit(exitCode);
