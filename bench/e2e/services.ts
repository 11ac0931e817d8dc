import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';

export type ServiceName = 'order' | 'payment' | 'inventory';
export const SERVICE_NAMES: ServiceName[] = ['order', 'payment', 'inventory'];

const PORT_VARIABLE: Record<ServiceName, string> = {
  order: 'ORDER_PORT',
  payment: 'PAYMENT_PORT',
  inventory: 'INVENTORY_PORT',
};

/**
 * The bench's deployment name (DEPLOYMENT of its services): its topics and consumer groups are
 * its own, so it neither joins nor splits the groups of a system running on the same broker.
 * BENCH_DEPLOYMENT moves it; with BENCH_EXTERNAL=1 set it to the driven system's DEPLOYMENT
 * (empty by default) so the Kafka figures read that system's topics.
 */
export const BENCH_DEPLOYMENT = process.env.BENCH_DEPLOYMENT ?? 'bench';

/** The built services (dist/apps/<name>/main.js) as child processes on the bench's ports. */
export class BenchServices {
  private readonly children = new Map<ServiceName, ChildProcess>();
  private readonly logs = new Map<ServiceName, string[]>();

  private constructor(
    private readonly portBase: number,
    private readonly urls: Record<ServiceName, string>,
    private readonly extraEnv: Record<string, string>,
  ) {}

  /**
   * Starts them one after another, each once the previous answers /health: on a fresh broker,
   * three services creating the same topics at once race (the loser's metadata request finds a
   * topic without its partitions yet), and the order service creates every flow topic first.
   */
  static async start(
    portBase: number,
    urls: Record<ServiceName, string>,
    extraEnv: Record<string, string> = {},
  ): Promise<BenchServices> {
    const services = new BenchServices(portBase, urls, extraEnv);
    // However the bench ends (an error included), no service outlives it.
    process.once('exit', () => {
      for (const child of services.children.values()) child.kill('SIGKILL');
    });
    for (const name of SERVICE_NAMES) {
      try {
        await services.launch(name);
      } catch (error) {
        await services.stop();
        throw error;
      }
    }
    return services;
  }

  /** Kills one service as a crash would (SIGKILL: no shutdown hook runs) and waits for its end. */
  async kill(name: ServiceName): Promise<void> {
    const child = this.children.get(name)!;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** Starts a service that was killed again, and waits until it answers /health. */
  restart(name: ServiceName): Promise<void> {
    return this.launch(name);
  }

  private async launch(name: ServiceName): Promise<void> {
    const index = SERVICE_NAMES.indexOf(name);
    // BENCH_CHECKOUT=path runs another checkout's build (e.g. the code before a change).
    const entry = join(process.env.BENCH_CHECKOUT ?? '.', 'dist', 'apps', name, 'main.js');
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
    const child = spawn(process.execPath, [...nodeFlags(name), entry], {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        DEPLOYMENT: BENCH_DEPLOYMENT,
        [PORT_VARIABLE[name]]: String(this.portBase + index),
        ...this.extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log: string[] = [];
    // BENCH_LOG_DIR=dir keeps each service's whole output in dir/<name>.log.
    const logDir = process.env.BENCH_LOG_DIR;
    if (logDir) mkdirSync(logDir, { recursive: true });
    const file = logDir ? createWriteStream(`${logDir}/${name}.log`, { flags: 'a' }) : null;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        file?.write(chunk);
        log.push(chunk.toString());
        if (log.length > 200) log.shift();
      });
    }
    this.children.set(name, child);
    this.logs.set(name, log);
    await this.waitForHealth(name, this.urls[name]);
  }

  pids(): Map<ServiceName, number> {
    return new Map([...this.children].map(([name, child]) => [name, child.pid!]));
  }

  private async waitForHealth(name: ServiceName, url: string, timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.children.get(name)!.exitCode !== null) break;
      try {
        const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(3000) });
        if (response.status === 200) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`${name} never became healthy:\n${this.logs.get(name)!.join('')}`);
  }

  /** SIGTERM each and wait; SIGKILL after 15 s. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  }
}

/**
 * The services' node flags: those `npm run start:all` uses unless BENCH_NODE_FLAGS says
 * otherwise; BENCH_CPU_PROF=1 adds a V8 CPU profile of each service in bench/results/profiles/.
 */
function nodeFlags(name: ServiceName): string[] {
  const flags = (process.env.BENCH_NODE_FLAGS ?? SERVICE_NODE_FLAGS).split(' ').filter(Boolean);
  if (process.env.BENCH_CPU_PROF === '1') {
    flags.push(
      '--cpu-prof',
      '--cpu-prof-dir=bench/results/profiles',
      `--cpu-prof-name=${name}.cpuprofile`,
    );
  }
  return flags;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function readCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** As in scripts/start-all.mjs, the Dockerfile and docker-compose.yml. */
const SERVICE_NODE_FLAGS = '--max-old-space-size=128';

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Resident and peak resident memory of a process in MiB, from /proc/<pid>/status. */
export function readMemory(pid: number): { rssMiB: number; hwmMiB: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** Samples each process' RSS every `everyMs`; `peak()` is the highest seen since `reset()`. */
export class RssSampler {
  private readonly peaks = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly pids: Map<string, number>) {}

  start(everyMs = 250): void {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  sample(): void {
    for (const [name, pid] of this.pids) {
      const memory = readMemory(pid);
      if (memory) this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, memory.rssMiB));
    }
  }

  reset(): void {
    this.peaks.clear();
  }

  peak(): Record<string, number> {
    this.sample();
    return Object.fromEntries([...this.peaks].map(([name, mib]) => [name, Math.round(mib)]));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
