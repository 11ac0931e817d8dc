import type { StepOutcome } from '../engine/index.js';

/**
 * RUNNING → COMPLETED, or RUNNING → COMPENSATING → COMPENSATED. PARKED is the visible dead end a
 * saga reaches when a command that must succeed (a compensation, or a step past the pivot) keeps
 * failing; an operator's `retryParked` sends it back to where it stopped.
 */
export type SagaStatus = 'RUNNING' | 'COMPENSATING' | 'COMPLETED' | 'COMPENSATED' | 'PARKED';

/** Where a saga is and what it waits for: what one compare-and-set replaces as a whole. */
export interface SagaProgress<D> {
  status: SagaStatus;
  /** The step whose action (RUNNING) or compensation (COMPENSATING) is in progress. */
  stepIndex: number;
  /** Sends of the current command so far (1 after the first send). */
  attempt: number;
  data: D;
  /** When the awaited reply is overdue; null when no command is in flight. */
  stepDeadline: Date | null;
  /** When the saga gives up and compensates; null once it is past the pivot or not running. */
  sagaDeadline: Date | null;
  /** When a backed-off command is sent again; null unless waiting to retry. */
  nextAttemptAt: Date | null;
  /** The business reason the saga is compensating (OUT_OF_STOCK, TIMEOUT, ...). */
  failureReason: string | null;
  /** The status an operator's retry resumes. */
  parkedFrom: 'RUNNING' | 'COMPENSATING' | null;
  /** Why the saga is parked (which command kept failing). */
  parkedReason: string | null;
}

export interface SagaInstance<D = unknown> extends SagaProgress<D> {
  /** The correlation id (the order id): one saga per business transaction. */
  id: string;
  sagaType: string;
  /** The name of the step at `stepIndex` (what the table stores, so a reader of SQL sees it). */
  currentStep: string;
  /** bigint, incremented by every transition: the compare-and-set's guard. */
  version: string;
  /** The id of the command whose reply the saga waits for: the only reply it accepts. */
  awaitedCommandId: string | null;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type SagaCommandKind = 'action' | 'compensation';

/** One row of `saga_steps`: the engine's history line, plus which send of which command. */
export interface SagaHistoryEntry {
  step: string;
  kind: SagaCommandKind;
  attempt: number;
  outcome: StepOutcome;
  reason: string | null;
  /** The command this entry is the outcome of, when there is one. */
  commandId: string | null;
  at: Date;
}
