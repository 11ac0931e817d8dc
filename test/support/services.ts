import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { env } from 'node:process';
import { authorization, OPERATOR, type Caller } from './tokens.js';

export type ServiceName = 'order' | 'payment' | 'inventory';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Test ports, away from CONTRACT.md's 3000-3002 so a running `start:all` does not collide.
 * TEST_PORT_BASE moves them, so two checkouts can run their suites side by side.
 */
const TEST_PORT_BASE = Number(process.env.TEST_PORT_BASE ?? 13000);
export const TEST_PORTS: Record<ServiceName, number> = {
  order: TEST_PORT_BASE,
  payment: TEST_PORT_BASE + 1,
  inventory: TEST_PORT_BASE + 2,
};
/** A port of a suite's own, `offset` above TEST_PORT_BASE (as an environment value). */
export function testPort(offset: number): string {
  return String(TEST_PORT_BASE + offset);
}

const PORT_VARIABLE: Record<ServiceName, string> = {
  order: 'ORDER_PORT',
  payment: 'PAYMENT_PORT',
  inventory: 'INVENTORY_PORT',
};

/**
 * The test services' deployment name (DEPLOYMENT): their topics and consumer groups are apart
 * from a system running on the same broker (`npm start`, the bench), which would otherwise take
 * half of their partitions. TEST_DEPLOYMENT moves it.
 */
export const TEST_DEPLOYMENT = process.env.TEST_DEPLOYMENT || 'test';

/** A built service (dist/apps/<name>/main.js) running as a child process. */
export class RunningService {
  readonly output: string[] = [];
  private readonly exited: Promise<ExitStatus>;

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    readonly process: ChildProcess,
  ) {
    // TEST_LOG_DIR=dir keeps every service's whole output in dir/<name>-<port>.log as well.
    const logDir = env.TEST_LOG_DIR;
    if (logDir) mkdirSync(logDir, { recursive: true });
    const file = logDir ? createWriteStream(`${logDir}/${name}-${port}.log`, { flags: 'a' }) : null;
    for (const stream of [process.stdout, process.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        this.output.push(chunk.toString());
        file?.write(chunk);
      });
    }
    this.exited = new Promise((resolve) =>
      process.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** fetch() on the service with the caller's token (an operator's unless a test says otherwise). */
  async fetch(path: string, init: RequestInit = {}, as: Caller = OPERATOR): Promise<Response> {
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(await authorization(as))) headers.set(name, value);
    return fetch(`${this.url}${path}`, { ...init, headers });
  }

  /** One JSON request to the service as `as`: its status and parsed body, whatever the status. */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    as: Caller = OPERATOR,
  ): Promise<{ status: number; body: T }> {
    const response = await this.fetch(
      path,
      {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      },
      as,
    );
    return { status: response.status, body: (await response.json()) as T };
  }

  /** Resolves when GET /health answers `status` (or rejects after the timeout, with the logs). */
  async waitForHealth(status = 200, timeoutMs = 60_000): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (this.process.exitCode !== null) break;
      try {
        const response = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(3000) });
        const body = await response.json();
        if (response.status === status) return body;
        last = `${response.status} ${JSON.stringify(body)}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(
      `${this.name} /health never answered ${status} (last: ${last})\n${this.output.join('')}`,
    );
  }

  /**
   * SIGTERM and wait for the exit; SIGKILL after the timeout. A graceful stop ends by the
   * SIGTERM itself: Nest re-raises the signal once its shutdown hooks have run.
   */
  async stop(timeoutMs = 15_000): Promise<ExitStatus> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill('SIGTERM');
      const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
      await this.exited.finally(() => clearTimeout(timer));
    }
    return this.exited;
  }

  kill(): void {
    this.process.kill('SIGKILL');
  }
}

/** Starts a built service with the test port and the given environment on top of ours. */
export function startService(name: ServiceName, env: Record<string, string> = {}): RunningService {
  const entry = `dist/apps/${name}/main.js`;
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  const port = Number(env[PORT_VARIABLE[name]] ?? TEST_PORTS[name]);
  // The heap cap start:all and the Dockerfile use (README: Ports, URLs and memory).
  const child = spawn(process.execPath, ['--max-old-space-size=128', entry], {
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      DEPLOYMENT: TEST_DEPLOYMENT,
      [PORT_VARIABLE[name]]: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new RunningService(name, port, child);
}
