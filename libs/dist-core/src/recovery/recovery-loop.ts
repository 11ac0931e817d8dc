import { Logger } from '@nestjs/common';

export interface RecoveryLoopOptions {
  /** Pause between passes while they find work. Default 250 ms. */
  intervalMs?: number;
  /**
   * Longest pause while passes find nothing: the pause doubles after each empty pass up to
   * this, and drops back to `intervalMs` as soon as one finds work. Bounds how late a due item
   * is handled on an idle system. Default 1000 ms (at least `intervalMs`).
   */
  idleIntervalMs?: number;
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
  private readonly idleIntervalMs: number;
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
    this.idleIntervalMs = Math.max(this.intervalMs, options.idleIntervalMs ?? 1000);
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
    // Each pass is at least one commit per database; an idle system polling every 250 ms on
    // every shard made most of its commits here, so empty passes back off.
    let pause = this.intervalMs;
    while (this.running) {
      let foundWork = true;
      try {
        const result = await this.pass();
        // A pass that reports a count (the engines' `tick`: how many moved) found nothing at 0.
        foundWork = typeof result !== 'number' || result > 0;
      } catch (error) {
        this.logger.error(`Recovery pass failed: ${(error as Error).message}`);
      }
      pause = foundWork ? this.intervalMs : Math.min(pause * 2, this.idleIntervalMs);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pause);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }
}
