import { execFileSync } from 'node:child_process';
import { redisCli, redisNode, redisPassword } from '../support/infra.js';

/**
 * Real faults on real Redis nodes for the Redlock tests: a node shut down (crash) or frozen with
 * SIGSTOP (a GC pause, a stalled VM: the TCP connection stays up, nothing answers). 6379 is
 * shared with everything else and is never touched; only 6380 and 6381 are.
 */
const TOUCHABLE = new Set([6380, 6381]);

function guard(port: number): void {
  if (!TOUCHABLE.has(port))
    throw new Error(`the Redlock tests only take down 6380/6381, not ${port}`);
}

export function portOf(url: string): number {
  return Number(new URL(url).port || 6379);
}

function answers(port: number): boolean {
  try {
    return redisCli(port, ['ping']) === 'PONG';
  } catch {
    return false;
  }
}

/** Shuts the node down (no save: it comes back empty, as after a crash). */
export function stopNode(port: number): void {
  guard(port);
  if (answers(port)) redisNode.stop(port);
}

/**
 * Starts every given node that does not answer, through the infra script; if that script cannot
 * (its state folder was removed under it), starts a bare node the way infra:up would.
 */
export function startNodes(ports: readonly number[]): void {
  for (const port of ports) {
    if (answers(port)) continue;
    try {
      redisNode.start(port);
    } catch {
      // The password as configuration on stdin (`-`), as the script passes it.
      execFileSync(
        'redis-server',
        [
          '-',
          '--daemonize',
          'yes',
          '--port',
          String(port),
          '--save',
          '',
          '--appendonly',
          'no',
          '--bind',
          '127.0.0.1',
        ],
        { input: `requirepass ${redisPassword()}\n`, stdio: ['pipe', 'ignore', 'inherit'] },
      );
      for (let i = 0; i < 100 && !answers(port); i++) execFileSync('sleep', ['0.05']);
    }
    if (!answers(port)) throw new Error(`Redis ${port} did not come back`);
  }
}

const paused = new Set<number>();

/**
 * Freezes the node's process (SIGSTOP). It stays frozen until resumeNodes(), which the tests call
 * in a finally and again in afterEach/afterAll: a node left frozen would hang every other suite.
 */
export function pauseNode(port: number): void {
  guard(port);
  startNodes([port]);
  const info = redisCli(port, ['info', 'server']);
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no process_id in INFO of ${port}`);
  paused.add(pid);
  process.kill(pid, 'SIGSTOP');
}

/** Lets every node frozen by pauseNode run again. */
export function resumeNodes(): void {
  for (const pid of paused) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // The process is gone (someone shut the node down meanwhile): nothing to resume.
    }
    paused.delete(pid);
  }
}

/** p-th percentile (0–100) of a sample, nearest rank. */
export function percentile(sample: readonly number[], p: number): number {
  const sorted = [...sample].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
