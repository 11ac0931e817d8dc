import type { EntityManager } from 'typeorm';
import { observeFlowStep } from '../engine/flow-steps.js';
import type { SagaHistoryEntry, SagaStepOutcome } from './saga-instance.js';

// The order API's words (and TCC's): a compensation that succeeded is a SUCCESS of that step.
const OUTCOMES: Partial<Record<SagaStepOutcome, string>> = {
  SUCCEEDED: 'SUCCESS',
  COMPENSATED: 'SUCCESS',
  FAILED: 'FAILURE',
  TIMED_OUT: 'TIMEOUT',
};

/** The latency of a step's command, for each history line that is the outcome of one. */
export function observeSagaSteps(lines: Omit<SagaHistoryEntry, 'at'>[], nowMs: number): void {
  for (const line of lines) {
    const outcome = OUTCOMES[line.outcome];
    if (outcome === undefined) continue; // PARKED and RESUMED are about the saga, not a command
    const step = line.kind === 'compensation' ? `${line.step}.compensation` : line.step;
    observeFlowStep('saga', step, outcome, line.commandId, nowMs);
  }
}

/** Parked sagas by type: each needs an operator (the partial index keeps this cheap). */
export async function countParkedSagas(manager: EntityManager): Promise<Map<string, number>> {
  const rows = (await manager.query(
    `SELECT saga_type, count(*)::int AS parked FROM saga_instances
      WHERE status = 'PARKED' GROUP BY saga_type`,
  )) as { saga_type: string; parked: number }[];
  return new Map(rows.map((row) => [row.saga_type, row.parked]));
}
