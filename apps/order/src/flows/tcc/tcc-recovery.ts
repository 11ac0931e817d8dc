import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { TccCoordinator } from '@app/dist-core/tcc';

/**
 * Calls `coordinator.tick` in a loop on one order shard, as SagaRecovery does for sagas: it
 * cancels the transactions whose Trys ran past the deadline and re-sends due Confirms and
 * Cancels — this instance's, and those of an instance that crashed (leases, SKIP LOCKED and
 * compare-and-set make several pollers per shard safe).
 */
export class TccRecovery {
  private readonly logger = new Logger(TccRecovery.name);
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly coordinator: TccCoordinator<unknown>,
    private readonly dataSource: DataSource,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops after the pass in progress, so no transaction is cut off by shutdown. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.coordinator.tick(this.dataSource);
      } catch (error) {
        this.logger.error(`TCC recovery pass failed: ${(error as Error).message}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.intervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }
}
