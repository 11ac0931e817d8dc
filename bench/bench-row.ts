/**
 * One line of a benchmark's result: our figure next to a named npm peer's, measured in the same
 * run, and whether the goal set for it was met. Every bench/*.bench.ts exports
 * `run(): Promise<BenchRow[]>`.
 */
export type BenchRow = {
  benchmark: string;
  metric: string;
  ours: number;
  peer: number;
  peerName: string;
  /** ours / peer for "higher is better" metrics. */
  ratio: number;
  goal: string;
  met: boolean;
};
