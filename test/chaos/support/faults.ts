import type { ServiceName } from '../../support/services.js';
import { CHAOS_PORTS, chaosKafka, chaosPostgres, chaosRedis } from './chaos-servers.js';
import { SERVICES, type Fleet } from './fleet.js';
import type { Random } from './random.js';
import type { Timeline } from './timeline.js';
import { sleep } from './workload.js';

/** One fault: at `atMs` into the load, take `target` down, keep it down `downMs`, bring it back. */
export interface Fault {
  atMs: number;
  downMs: number;
  target: ServiceName | 'redis' | 'kafka' | 'postgres';
  /** The Redis node's port. */
  port?: number;
}

/**
 * The fault plan, at seeded random moments within `windowMs` of load: every service
 * SIGKILLed two or three times, one Redis node stopped for a while, the Kafka broker stopped,
 * Postgres crashed once. Faults may overlap (a service restarted while Postgres is down is part
 * of the test); faults on the same target wait for each other.
 */
export function planFaults(random: Random, windowMs: number): Fault[] {
  const faults: Fault[] = [];
  const at = () => random.int(10_000, windowMs);
  for (const service of SERVICES) {
    for (let i = random.int(2, 3); i > 0; i--) {
      faults.push({ target: service, atMs: at(), downMs: random.int(200, 3_000) });
    }
  }
  faults.push({
    target: 'redis',
    port: random.pick(CHAOS_PORTS.redis),
    atMs: at(),
    downMs: random.int(5_000, 20_000),
  });
  faults.push({ target: 'kafka', atMs: at(), downMs: random.int(2_000, 10_000) });
  faults.push({ target: 'postgres', atMs: at(), downMs: random.int(1_000, 8_000) });
  return faults.sort((a, b) => a.atMs - b.atMs);
}

export function describeFault(f: Fault): string {
  const what = f.target === 'redis' ? `redis:${f.port}` : f.target;
  return `${(f.atMs / 1000).toFixed(1)}s ${what} down ${(f.downMs / 1000).toFixed(1)}s`;
}

/** Runs a plan against the fleet and the chaos servers; remembers when the last one recovered. */
export class FaultInjector {
  lastRecoveryAt = 0;
  readonly done: string[] = [];
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    private readonly fleet: Fleet,
    private readonly timeline: Timeline,
  ) {}

  async run(plan: Fault[]): Promise<void> {
    const startedAt = Date.now();
    await Promise.all(
      plan.map(async (fault) => {
        await sleep(fault.atMs - (Date.now() - startedAt));
        const key = fault.target === 'redis' ? `redis:${fault.port}` : fault.target;
        const previous = this.queues.get(key) ?? Promise.resolve();
        const current = previous.then(() => this.inject(fault));
        this.queues.set(key, current);
        await current;
      }),
    );
  }

  private async inject(fault: Fault): Promise<void> {
    const { target, downMs } = fault;
    const down = `${(downMs / 1000).toFixed(1)}s`;
    const began = Date.now();
    if (target === 'redis') {
      const port = fault.port as number;
      this.timeline.log(`FAULT stop redis:${port} (for ${down})`);
      await chaosRedis.stop(port);
      await sleep(downMs);
      await chaosRedis.start(port);
      this.timeline.log(`      redis:${port} started again`);
    } else if (target === 'kafka') {
      this.timeline.log(`FAULT stop kafka (then ${down} down)`);
      await chaosKafka.stop();
      this.timeline.log('      kafka stopped');
      await sleep(downMs);
      await chaosKafka.start();
      this.timeline.log(
        `      kafka serving again (${((Date.now() - began) / 1000).toFixed(1)}s after the stop)`,
      );
    } else if (target === 'postgres') {
      this.timeline.log(`FAULT crash postgres: pg_ctl stop -m immediate (for ${down})`);
      await chaosPostgres.crash();
      await sleep(downMs);
      await chaosPostgres.start();
      this.timeline.log('      postgres accepting connections again (after crash recovery)');
    } else {
      this.timeline.log(`FAULT SIGKILL ${target} (restart after ${down})`);
      await this.fleet.kill(target);
      await sleep(downMs);
      await this.fleet.start(target);
      this.timeline.log(
        `      ${target} restarted and healthy (${((Date.now() - began) / 1000).toFixed(1)}s after the kill)`,
      );
    }
    this.done.push(describeFault(fault));
    this.lastRecoveryAt = Date.now();
  }
}
