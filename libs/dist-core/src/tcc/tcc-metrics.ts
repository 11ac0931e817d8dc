import { observeFlowStep } from '../engine/flow-steps.js';
import type { TccProgress } from './tcc-definition.js';

/**
 * The latency of each branch command a transition recorded the outcome of: the history lines
 * it added (`inventory.try SUCCESS`), each matched to the command its branch awaited before.
 */
export function observeTccSteps(before: TccProgress, after: TccProgress, nowMs: number): void {
  for (const line of after.history.slice(before.history.length)) {
    const branchName = line.step.slice(0, line.step.lastIndexOf('.'));
    const branch = before.branches.find((b) => b.name === branchName);
    observeFlowStep('tcc', line.step, line.outcome, branch?.awaitedCommandId ?? null, nowMs);
  }
}
