/**
 * A closed loop: `concurrency` workers, each starting its next order as soon as its last one is
 * terminal, so exactly that many orders are in flight. It runs `warmupMs`, then measures for
 * `durationMs`; orders that end inside the window are counted (their latency included), and
 * the hooks take the counters' readings at the window's edges. Then no new order starts, and the
 * loop returns once the orders in flight have ended, so levels never overlap.
 */
export interface Outcome {
  /** When the order started and ended, epoch ms (server timestamps for the system). */
  startedAt: number;
  endedAt: number;
  completed: boolean;
}

export interface LoopOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** One order by worker `worker`; resolves when it is terminal. */
  work: (worker: number) => Promise<Outcome>;
  onWindowStart?: () => Promise<void>;
  onWindowEnd?: () => Promise<void>;
}

export interface LoopResult {
  completed: number;
  cancelled: number;
  /** Orders that failed outright (an HTTP error, a lost order): should be 0. */
  errors: number;
  firstError: string | null;
  latenciesMs: number[];
}

export async function runClosedLoop(options: LoopOptions): Promise<LoopResult> {
  const start = Date.now();
  const windowStart = start + options.warmupMs;
  const windowEnd = windowStart + options.durationMs;
  const result: LoopResult = {
    completed: 0,
    cancelled: 0,
    errors: 0,
    firstError: null,
    latenciesMs: [],
  };

  const edges = (async () => {
    await sleepUntil(windowStart);
    await options.onWindowStart?.();
    await sleepUntil(windowEnd);
    await options.onWindowEnd?.();
  })();

  const worker = async (index: number) => {
    while (Date.now() < windowEnd) {
      try {
        const outcome = await options.work(index);
        if (outcome.endedAt < windowStart || outcome.endedAt >= windowEnd) continue;
        if (outcome.completed) {
          result.completed += 1;
          result.latenciesMs.push(outcome.endedAt - outcome.startedAt);
        } else {
          result.cancelled += 1;
        }
      } catch (error) {
        result.errors += 1;
        result.firstError ??= (error as Error).message;
        await sleep(100);
      }
    }
  };
  await Promise.all([edges, ...Array.from({ length: options.concurrency }, (_, i) => worker(i))]);
  return result;
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sleepUntil(at: number): Promise<void> {
  return sleep(Math.max(0, at - Date.now()));
}
