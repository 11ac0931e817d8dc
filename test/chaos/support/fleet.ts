import { startService, type RunningService, type ServiceName } from '../../support/services.js';
import { CHAOS_SERVICE_ENV } from './chaos-servers.js';
import type { Timeline } from './timeline.js';

export const SERVICES: readonly ServiceName[] = ['order', 'payment', 'inventory'];

/** Away from the other suites' test services (TEST_PORT_BASE moves them too). */
const PORT_BASE = Number(process.env.TEST_PORT_BASE ?? 13000) + 90;
const PORT_VARIABLE: Record<ServiceName, string> = {
  order: 'ORDER_PORT',
  payment: 'PAYMENT_PORT',
  inventory: 'INVENTORY_PORT',
};
const HEALTHY_WITHIN_MS = 150_000;

/**
 * The three services, pointed at the chaos servers. The fleet knows which exits it caused (a
 * SIGKILL, the final stop): any other exit is a process that died on its own, which the suite
 * reports as a violation ("no request kills a process") and answers with a restart, so the run
 * can still say what else went wrong.
 */
export class Fleet {
  private readonly running = new Map<ServiceName, RunningService>();
  private readonly expectedExits = new Set<RunningService>();
  readonly unexpectedExits: string[] = [];
  private stopping = false;
  private readonly restarts = new Set<Promise<void>>();

  constructor(private readonly timeline: Timeline) {}

  url(name: ServiceName): string {
    return `http://127.0.0.1:${PORT_BASE + SERVICES.indexOf(name)}`;
  }

  async start(name: ServiceName): Promise<void> {
    const service = startService(name, {
      ...CHAOS_SERVICE_ENV,
      [PORT_VARIABLE[name]]: String(PORT_BASE + SERVICES.indexOf(name)),
    });
    this.running.set(name, service);
    service.process.once('exit', (code, signal) => {
      if (this.expectedExits.has(service) || this.stopping) return;
      const tail = service.output.join('').split('\n').slice(-15).join('\n');
      this.unexpectedExits.push(`${name} exited on its own (code ${code}, signal ${signal})`);
      this.timeline.log(`!! ${name} exited on its own (code ${code}, signal ${signal}):\n${tail}`);
      if (this.running.get(name) === service) {
        const restart = this.start(name).then(
          () => this.timeline.log(`${name} restarted after its own exit`),
          (error: Error) => this.timeline.log(`!! ${name} did not come back: ${error.message}`),
        );
        this.restarts.add(restart);
        void restart.finally(() => this.restarts.delete(restart));
      }
    });
    await service.waitForHealth(200, HEALTHY_WITHIN_MS);
  }

  /** SIGKILL: no shutdown hooks, no flushing; whatever was in flight is cut. */
  async kill(name: ServiceName): Promise<void> {
    const service = this.running.get(name);
    if (!service) return;
    this.expectedExits.add(service);
    await new Promise<void>((resolve) => {
      if (service.process.exitCode !== null || service.process.signalCode !== null) resolve();
      else {
        service.process.once('exit', () => resolve());
        service.kill();
      }
    });
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.restarts);
    await Promise.all([...this.running.values()].map((service) => service.stop()));
  }

  /** The last lines each service logged, for a failure report. */
  logTails(lines = 30): string {
    return [...this.running.entries()]
      .map(
        ([name, s]) =>
          `----- ${name} -----\n${s.output.join('').split('\n').slice(-lines).join('\n')}`,
      )
      .join('\n');
  }
}
