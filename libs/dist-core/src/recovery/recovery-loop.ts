import { Logger } from '@nestjs/common';

export interface RecoveryLoopOptions {
  /** Pause between passes. Default 250 ms. */
  intervalMs?: number;
}

/**
 * Runs one recovery pass after another until stopped: the engines' `tick`, which claims due
 * work (timeouts, retries, work a crashed instance left) and drives it on. Nothing that matters
 * lives in the loop itself — deadlines and leases are columns — so any instance's loop can pick
 * up any instance's work, and losing a loop loses nothing.
 */
export class RecoveryLoop {
  private readonly logger: Logger;
  private readonly intervalMs: number;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    name: string,
    private readonly pass: () => Promise<unknown>,
    options: RecoveryLoopOptions = {},
  ) {
    this.logger = new Logger(name);
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
        await this.pass();
      } catch (error) {
        this.logger.error(`Recovery pass failed: ${(error as Error).message}`);
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
