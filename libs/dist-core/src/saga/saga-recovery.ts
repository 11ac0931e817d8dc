import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { SagaOrchestrator } from './saga-orchestrator.js';

export interface SagaRecoveryOptions {
  /** Pause between passes when the last one found less than a full batch. */
  intervalMs?: number;
}

/**
 * Calls `orchestrator.tick` in a loop on one DataSource (one order shard), so every instance of
 * the service drives due sagas — its own and those of a crashed instance. Run one per shard;
 * several instances per shard are safe (SKIP LOCKED, leases, compare-and-set).
 */
export class SagaRecovery {
  private readonly logger = new Logger(SagaRecovery.name);
  private readonly intervalMs: number;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly orchestrator: SagaOrchestrator,
    private readonly dataSource: DataSource,
    options: SagaRecoveryOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 250;
  }

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
        await this.orchestrator.tick(this.dataSource);
      } catch (error) {
        this.logger.error(`Saga recovery pass failed: ${(error as Error).message}`);
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
