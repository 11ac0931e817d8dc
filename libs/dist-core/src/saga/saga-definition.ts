import type { EntityManager } from 'typeorm';
import type { BackoffPolicy, FlowReply, StepOutcome } from '../engine/index.js';

/*
 * The participant contract: what a service that receives saga commands must guarantee.
 *
 * 1. Reply with an envelope whose causationId is the command's id and whose payload is
 *    { outcome: 'SUCCESS' | 'FAILURE', reason?, ...data }. The orchestrator accepts only the reply
 *    to the command it awaits now; any other is ignored.
 * 2. FAILURE is a definitive business answer (OUT_OF_STOCK) and means the step changed nothing.
 *    A fault (database down) is not a FAILURE: let the handler throw, so the message is retried
 *    or dead-lettered, and the saga's timeout covers it.
 * 3. Idempotent by business key (correlationId, command type), not by message id. After a
 *    timeout the orchestrator re-sends the same request as a NEW message (new id): the inbox
 *    (keyed by message id) lets it through, so the participant must find its earlier outcome for
 *    that order and step and answer it again, never act twice. A new id is on purpose: the
 *    reply to the retry must be distinguishable from a late reply to the timed-out attempt, and
 *    a message that was dead-lettered must still be retried.
 * 4. A compensation succeeds whether or not its action ran ("null compensation": a step that
 *    timed out is compensated although its action may never have arrived), is idempotent, and
 *    leaves a marker so that the action arriving late for the same order does nothing and
 *    answers FAILURE (anti-hanging), like dtm's barrier.
 * 5. A compensation, and a step marked retriedUntilSuccess, must eventually succeed: they are
 *    retried with backoff, and the saga is PARKED for an operator if they keep failing.
 * 6. A settlement (`settledBy`) closes the step's branch for good when the saga completes: no
 *    business change, but from then on a compensation of that step is refused (a barrier
 *    Confirm). Without it the last word on a completed saga's charge would be whoever sends a
 *    refund next.
 */

/** A command to a participant, built from the saga's data. The engine adds id and correlation. */
export interface SagaCommand {
  topic: string;
  type: string;
  payload: object;
}

export type CommandBuilder<D> = (data: D) => SagaCommand;

export interface SagaStep<D> {
  readonly name: string;
  readonly action: CommandBuilder<D>;
  /** Undoes the action. Absent for a step with nothing to undo (a check, or a step after the pivot). */
  readonly compensation: CommandBuilder<D> | null;
  /** Merges a SUCCESS reply into the saga data (must be pure: it runs inside the CAS retry loop). */
  readonly onSuccess: ((data: D, reply: FlowReply) => D) | null;
  /**
   * Past the pivot: once the saga reaches this step it can no longer be undone, so the step is
   * never compensated and its failure does not compensate earlier steps. It is retried until it
   * succeeds, and a saga that still cannot finish it is PARKED for an operator.
   */
  readonly retriedUntilSuccess: boolean;
  /**
   * Sent, with no reply awaited, when the saga completes: tells the participant the step will
   * never be compensated, so it can refuse a late or repeated compensation. Null for a step that
   * needs none (no compensation, or its participant is settled by a later step).
   */
  readonly settlement: CommandBuilder<D> | null;
}

export interface SagaHooks<D> {
  /** Runs in the same transaction as the saga's last transition (e.g. set the order COMPLETED). */
  onCompleted?: (manager: EntityManager, saga: SagaInstance<D>) => Promise<void>;
  /** Runs in the same transaction as the last compensation's success (e.g. CANCELLED + reason). */
  onCompensated?: (manager: EntityManager, saga: SagaInstance<D>, reason: string) => Promise<void>;
}

/** The part of a step that must come first: what it asks a participant to do. */
export interface StepStart<D> {
  invoke(action: CommandBuilder<D>): StepBuilder<D>;
}

/** Immutable: every call returns a new builder, so a half-built step cannot leak into another. */
export class StepBuilder<D> {
  constructor(readonly step: SagaStep<D>) {}

  withCompensation(compensation: CommandBuilder<D>): StepBuilder<D> {
    return new StepBuilder({ ...this.step, compensation });
  }

  /** `reply` is the participant's reply payload; declare its type in the callback's parameter. */
  onSuccess<R extends object = FlowReply>(merge: (data: D, reply: R) => D): StepBuilder<D> {
    return new StepBuilder({
      ...this.step,
      onSuccess: merge as unknown as (data: D, reply: FlowReply) => D,
    });
  }

  retriedUntilSuccess(): StepBuilder<D> {
    return new StepBuilder({ ...this.step, retriedUntilSuccess: true });
  }

  /** The command that closes this step's branch when the saga completes (see contract 6). */
  settledBy(settlement: CommandBuilder<D>): StepBuilder<D> {
    return new StepBuilder({ ...this.step, settlement });
  }
}

export class SagaDefinitionError extends Error {
  constructor(sagaType: string, problem: string) {
    super(`Saga ${sagaType}: ${problem}`);
    this.name = 'SagaDefinitionError';
  }
}

/**
 * A saga read top to bottom: its steps in order, each with its compensation. Immutable, like the
 * step builder; a definition is a value the orchestrator and the in-memory runner both interpret.
 */
export class SagaDefinition<D> {
  constructor(
    readonly type: string,
    readonly steps: readonly SagaStep<D>[] = [],
    readonly hooks: SagaHooks<D> = {},
  ) {}

  step(name: string, build: (start: StepStart<D>) => StepBuilder<D>): SagaDefinition<D> {
    if (this.steps.some((s) => s.name === name)) {
      throw new SagaDefinitionError(this.type, `step ${name} is defined twice`);
    }
    const start: StepStart<D> = {
      invoke: (action) =>
        new StepBuilder<D>({
          name,
          action,
          compensation: null,
          onSuccess: null,
          retriedUntilSuccess: false,
          settlement: null,
        }),
    };
    const { step } = build(start);
    const previous = this.steps.at(-1);
    if (previous?.retriedUntilSuccess && !step.retriedUntilSuccess) {
      throw new SagaDefinitionError(
        this.type,
        `step ${name} follows the pivot (${previous.name} is retried until success), so it must be too`,
      );
    }
    if (step.retriedUntilSuccess && step.compensation) {
      throw new SagaDefinitionError(
        this.type,
        `step ${name} is retried until success, so it is never compensated: drop its compensation`,
      );
    }
    if (step.settlement && !step.compensation) {
      throw new SagaDefinitionError(
        this.type,
        `step ${name} is never compensated, so there is nothing for its settlement to close`,
      );
    }
    return new SagaDefinition(this.type, [...this.steps, step], this.hooks);
  }

  onCompleted(hook: NonNullable<SagaHooks<D>['onCompleted']>): SagaDefinition<D> {
    return new SagaDefinition(this.type, this.steps, { ...this.hooks, onCompleted: hook });
  }

  onCompensated(hook: NonNullable<SagaHooks<D>['onCompensated']>): SagaDefinition<D> {
    return new SagaDefinition(this.type, this.steps, { ...this.hooks, onCompensated: hook });
  }
}

/**
 * Starts a saga definition, in the style of eventuate-tram-sagas' CreateOrderSaga:
 *
 *   defineSaga<OrderSagaData>('order')
 *     .step('reserveStock', (s) => s.invoke(reserve).withCompensation(release).onSuccess(prices))
 *     .step('takePayment', (s) => s.invoke(charge).withCompensation(refund).settledBy(settle))
 *     .step('confirmStock', (s) => s.invoke(confirm).retriedUntilSuccess())
 *     .onCompleted(markOrderCompleted)
 *     .onCompensated(markOrderCancelled);
 *
 * `D` is the saga's data: it is stored as jsonb, so it must be plain JSON (ids as strings).
 */
export function defineSaga<D>(type: string): SagaDefinition<D> {
  return new SagaDefinition<D>(type);
}

// A saga as it runs: the row one compare-and-set replaces, and its history.

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

/** The timing and retry rules the state machine applies. */
export interface SagaPolicy {
  /** How long a command waits for its reply before it counts as timed out. */
  stepTimeoutMs: number;
  /** From start until the saga gives up and compensates with reason TIMEOUT (until the pivot). */
  sagaTimeoutMs: number;
  /** Sends of a forward step without a definitive answer before the saga compensates. */
  maxStepAttempts: number;
  /**
   * Sends of a command that must succeed (a compensation, a step past the pivot) after which a
   * failure answer parks it (PARKED). Every send counts, answered or not: a command left
   * unanswered is sent again and never parks by itself, but a failure answer after this many
   * sends parks it at once.
   */
  parkAfterAttempts: number;
  /** Delay before re-sending: capped exponential with jitter. */
  backoff: BackoffPolicy;
}

export const DEFAULT_SAGA_POLICY: SagaPolicy = {
  stepTimeoutMs: 5_000,
  sagaTimeoutMs: 25_000,
  maxStepAttempts: 3,
  parkAfterAttempts: 10,
  backoff: { baseMs: 200, maxMs: 5_000 },
};
