import { Logger } from '@nestjs/common';
import type { IdGenerator } from '../outbox/index.js';
import type { Redlock } from '../redlock/index.js';
import { SnowflakeGenerator, WorkerIdLease, WorkerLeaseLostError } from '../snowflake/index.js';
import { waitFor } from './wait-for.js';

const RECLAIM_PAUSE_MS = 1000;

/**
 * The service's Snowflake ids, under a leased worker id (see snowflake/worker-id-lease.ts).
 *
 * If the lease is lost (the Redis quorum was unreachable for longer than the lease), the
 * generator stops issuing at once — nextId() throws WorkerLeaseLostError, which an HTTP request
 * sees as 503 — and a new lease is claimed in the background. Ids stay unique across the gap:
 * the new lease may carry another worker id, and the same one is only handed out again after
 * the old holder's timestamps are behind it.
 */
export class ServiceIds implements IdGenerator {
  private readonly log = new Logger(ServiceIds.name);
  private lease!: WorkerIdLease;
  private generator!: SnowflakeGenerator;
  private stopped = false;

  private constructor(private readonly redlock: Redlock) {}

  static async start(redlock: Redlock, startupTimeoutMs: number): Promise<ServiceIds> {
    const ids = new ServiceIds(redlock);
    await waitFor('a Snowflake worker id lease', startupTimeoutMs, () => ids.claim());
    return ids;
  }

  get workerId(): number {
    return this.generator.workerId;
  }

  nextId(): string {
    return this.generator.nextId();
  }

  private async claim(): Promise<void> {
    this.lease = await WorkerIdLease.claim(this.redlock, { onLost: (error) => this.onLost(error) });
    this.generator = new SnowflakeGenerator(this.lease);
    this.log.log(`Issuing ids as worker ${this.lease.workerId}`);
  }

  private onLost(error: WorkerLeaseLostError): void {
    this.log.error(`${error.message}; claiming a new worker id`);
    const reclaim = async (): Promise<void> => {
      while (!this.stopped) {
        try {
          return await this.claim();
        } catch (claimError) {
          this.log.warn(`No worker id yet: ${(claimError as Error).message}`);
          await new Promise((resolve) => setTimeout(resolve, RECLAIM_PAUSE_MS));
        }
      }
    };
    void reclaim();
  }

  async release(): Promise<void> {
    this.stopped = true;
    await this.lease.release();
  }
}
