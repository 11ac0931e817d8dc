import { Logger } from '@nestjs/common';

/**
 * Retries `attempt` until it succeeds or `timeoutMs` passes, with a growing pause. A service
 * may start before its servers (docker compose, a restart after a crash): it waits for them
 * instead of failing, and says what it is waiting for.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  attempt: () => Promise<T>,
): Promise<T> {
  const log = new Logger('Startup');
  const deadline = Date.now() + timeoutMs;
  for (let round = 1; ; round++) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      if (round === 1 || round % 10 === 0)
        log.warn(`Waiting for ${what}: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * round, 2000)));
    }
  }
}
