import { flowStepDuration } from '../metrics/index.js';
import { decodeSnowflakeId } from '../snowflake/index.js';

/** The protocols on the engine: the `flow` label of spans, logs and `flow_step_duration_seconds`. */
export type FlowProtocol = 'saga' | 'tcc' | '2pc';

/** Older than this, a "command id" is not a Snowflake of this system (a test's counter id). */
const MAX_PLAUSIBLE_AGE_MS = 24 * 3_600_000;

/**
 * Records one step outcome. The latency comes from the command's id: it is a Snowflake, so it
 * carries the millisecond the command was created, whichever instance created it and however
 * many transitions the flow made since (a TCC's phase two sends to every branch at once).
 * The engines call this after their compare-and-set won, inside the transaction: one that then
 * rolls back (a database fault) is counted all the same; a lost race is not counted.
 */
export function observeFlowStep(
  flow: FlowProtocol,
  step: string,
  outcome: string,
  commandId: string | null,
  nowMs: number,
): void {
  if (commandId === null) return;
  let sentAtMs: number;
  try {
    sentAtMs = decodeSnowflakeId(commandId).timestampMs;
  } catch {
    return;
  }
  const ageMs = nowMs - sentAtMs;
  if (ageMs > MAX_PLAUSIBLE_AGE_MS) return;
  // Another instance's clock may be a little ahead: a negative age is a zero.
  flowStepDuration.observe({ flow, step, outcome }, Math.max(0, ageMs) / 1000);
}
