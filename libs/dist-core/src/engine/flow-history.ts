import { observeFlowStep, type FlowProtocol } from './flow-steps.js';

/**
 * The outcome of a step's command (SUCCESS, FAILURE, TIMEOUT), or of the flow itself: PARKED for
 * an operator, RESUMED by one. A compensation that succeeded is a SUCCESS of
 * `<step>.compensation`: one vocabulary for every protocol and for the order API.
 */
export type StepOutcome = 'SUCCESS' | 'FAILURE' | 'TIMEOUT' | 'PARKED' | 'RESUMED';

/** The reason a flow fails when a command got no definitive answer in time, whatever the protocol. */
export const TIMEOUT_REASON = 'TIMEOUT';

/** One line of a flow's history, as the order API shows it: `inventory.try SUCCESS at …`. */
export interface HistoryLine {
  /**
   * A saga step (`reserveStock`, `reserveStock.compensation`), a TCC branch op (`inventory.try`)
   * or a 2PC participant op (`inventory.prepare`).
   */
  step: string;
  outcome: StepOutcome;
  reason: string | null;
  /** ISO 8601. */
  at: string;
}

/** A line as a transition records it, before it is stamped; `commandId` is what it answers. */
export interface StepRecord {
  step: string;
  outcome: StepOutcome;
  reason: string | null;
  commandId: string | null;
}

/** The latency of each command a transition recorded the outcome of (not PARKED / RESUMED). */
export function observeSteps(flow: FlowProtocol, records: StepRecord[], nowMs: number): void {
  for (const { step, outcome, commandId } of records) {
    if (outcome === 'PARKED' || outcome === 'RESUMED') continue;
    observeFlowStep(flow, step, outcome, commandId, nowMs);
  }
}
