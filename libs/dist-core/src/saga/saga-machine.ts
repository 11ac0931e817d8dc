import {
  backoffDelayMs,
  TIMEOUT_REASON,
  type FlowReply,
  type IgnoredReply,
} from '../engine/index.js';
import type {
  SagaCommand,
  SagaCommandKind,
  SagaDefinition,
  SagaHistoryEntry,
  SagaInstance,
  SagaPolicy,
  SagaProgress,
  SagaStep,
} from './saga-definition.js';

/**
 * The saga state machine, pure: (definition, instance, event, now) → transition. No I/O and no
 * clock of its own, so the Postgres orchestrator and the in-memory runner apply the very same
 * rules, and a transition can be recomputed when its compare-and-set loses a race.
 */

export interface MachineContext {
  now: number;
  policy: SagaPolicy;
  random: () => number;
}

/** A command the transition sends; its envelope id becomes the saga's awaited command id. */
export interface OutgoingCommand {
  step: string;
  kind: SagaCommandKind;
  command: SagaCommand;
}

export type SagaTerminal = 'COMPLETED' | 'COMPENSATED' | 'PARKED';

export interface SagaTransition<D> {
  next: SagaProgress<D>;
  /** Null when the saga now waits for a backoff, or has ended: it then awaits no reply. */
  send: OutgoingCommand | null;
  history: Omit<SagaHistoryEntry, 'at'>[];
  /** Set when this transition ends the saga (or parks it): the definition's hook runs with it. */
  terminal: SagaTerminal | null;
  /** Sent with no reply awaited: on COMPLETED, the settlement of every step that declares one. */
  settlements?: SagaCommand[];
}

export class SagaStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SagaStateError';
  }
}

/** The first transition: RUNNING at step 0, its action sent. */
export function startTransition<D>(
  definition: SagaDefinition<D>,
  data: D,
  ctx: MachineContext,
): SagaTransition<D> {
  if (definition.steps.length === 0) {
    throw new SagaStateError(`Saga ${definition.type} has no steps`);
  }
  const first = definition.steps[0];
  return sendStep(definition, {
    progress: {
      status: 'RUNNING',
      stepIndex: 0,
      attempt: 0,
      data,
      stepDeadline: null,
      sagaDeadline: first.retriedUntilSuccess ? null : at(ctx.now + ctx.policy.sagaTimeoutMs),
      nextAttemptAt: null,
      failureReason: null,
      parkedFrom: null,
      parkedReason: null,
    },
    history: [],
    ctx,
  });
}

/**
 * A participant's reply. It applies only if it answers the command the saga awaits right now
 * (its causation id equals the stored command id): a duplicate, a reply to a command that already
 * timed out, or one to an earlier step all fail that test. eventuate-tram-sagas stores the last
 * request id but never compares it, so there a stale reply moves the saga.
 */
export function replyTransition<D>(
  definition: SagaDefinition<D>,
  saga: SagaInstance<D>,
  causationId: string | null,
  reply: FlowReply,
  ctx: MachineContext,
): SagaTransition<D> | IgnoredReply {
  if (saga.status !== 'RUNNING' && saga.status !== 'COMPENSATING') return 'FINISHED';
  if (saga.awaitedCommandId === null || causationId !== saga.awaitedCommandId) {
    return 'NOT_AWAITED';
  }
  const step = definition.steps[saga.stepIndex];
  const kind = kindOf(saga);

  if (reply.outcome === 'SUCCESS') {
    if (kind === 'compensation') {
      const history = [line(saga, 'SUCCESS', null)];
      return compensateFrom(definition, progressOf(saga), saga.stepIndex - 1, history, ctx);
    }
    const data = step.onSuccess ? step.onSuccess(saga.data, reply) : saga.data;
    return advance(definition, { ...progressOf(saga), data }, [line(saga, 'SUCCESS', null)], ctx);
  }

  const reason = reply.reason ?? `${step.name.toUpperCase()}_FAILED`;
  const history = [line(saga, 'FAILURE', reason)];
  if (mustSucceed(step, kind)) {
    // A compensation, or a step past the pivot: a FAILURE is one more failed try, not an answer.
    return retryOrPark(definition, progressOf(saga), kind, reason, history, ctx);
  }
  // A definitive FAILURE means the participant changed nothing for this step, so compensation
  // starts with the step before it.
  return compensateFrom(
    definition,
    { ...progressOf(saga), failureReason: reason },
    saga.stepIndex - 1,
    history,
    ctx,
  );
}

/**
 * What time alone does to a saga: the saga deadline, a step's reply deadline, a backoff's end.
 * Returns null when nothing is due yet (a poller claimed it on another clock, or a reply won).
 */
export function dueTransition<D>(
  definition: SagaDefinition<D>,
  saga: SagaInstance<D>,
  ctx: MachineContext,
): SagaTransition<D> | null {
  if (saga.status !== 'RUNNING' && saga.status !== 'COMPENSATING') return null;
  const step = definition.steps[saga.stepIndex];
  const kind = kindOf(saga);
  const now = ctx.now;

  if (saga.status === 'RUNNING' && saga.sagaDeadline && saga.sagaDeadline.getTime() <= now) {
    // The current step's outcome is unknown (its action may have run), so it is compensated too:
    // its compensation must be a no-op when the action never ran.
    return compensateFrom(
      definition,
      { ...progressOf(saga), failureReason: TIMEOUT_REASON },
      saga.stepIndex,
      [line(saga, 'TIMEOUT', 'SAGA_DEADLINE')],
      ctx,
    );
  }

  if (saga.stepDeadline && saga.stepDeadline.getTime() <= now) {
    const history = [line(saga, 'TIMEOUT', null)];
    if (mustSucceed(step, kind)) {
      // No answer is not a refusal: the participant, its database or the broker is away, and
      // the outbox and the inbox make another send harmless. Parking here would leave every
      // order caught by an outage longer than the park budget (about two minutes) PENDING until
      // an operator came, so it is sent again, backoff capped, until answered. Parking is for
      // commands the participant answers with a failure.
      return retryLater(progressOf(saga), history, ctx);
    }
    if (saga.attempt >= ctx.policy.maxStepAttempts) {
      // No definitive answer after every attempt: as uncertain as the saga deadline.
      return compensateFrom(
        definition,
        { ...progressOf(saga), failureReason: TIMEOUT_REASON },
        saga.stepIndex,
        history,
        ctx,
      );
    }
    return retryLater(progressOf(saga), history, ctx);
  }

  if (saga.nextAttemptAt && saga.nextAttemptAt.getTime() <= now) {
    return sendStep(definition, { progress: progressOf(saga), history: [], ctx, kind });
  }
  return null;
}

/** An operator's retry of a PARKED saga: resume where it stopped with a fresh attempt budget. */
export function resumeTransition<D>(
  definition: SagaDefinition<D>,
  saga: SagaInstance<D>,
  ctx: MachineContext,
): SagaTransition<D> {
  if (saga.status !== 'PARKED' || saga.parkedFrom === null) {
    throw new SagaStateError(`Saga ${saga.id} is ${saga.status}, not PARKED`);
  }
  const kind: SagaCommandKind = saga.parkedFrom === 'RUNNING' ? 'action' : 'compensation';
  const step = definition.steps[saga.stepIndex];
  return sendStep(definition, {
    progress: {
      ...progressOf(saga),
      status: saga.parkedFrom,
      attempt: 0,
      parkedFrom: null,
      parkedReason: null,
    },
    history: [
      {
        step: step.name,
        kind,
        attempt: 0,
        outcome: 'RESUMED',
        reason: saga.parkedReason,
        commandId: null,
      },
    ],
    ctx,
    kind,
  });
}

/**
 * The command whose reply the saga awaits, rebuilt from its data (a builder is pure), so the
 * orchestrator can tell which participant may answer it; null when it awaits none.
 */
export function awaitedCommand<D>(
  definition: SagaDefinition<D>,
  saga: SagaInstance<D>,
): SagaCommand | null {
  if (saga.awaitedCommandId === null) return null;
  if (saga.status !== 'RUNNING' && saga.status !== 'COMPENSATING') return null;
  const step = definition.steps[saga.stepIndex];
  const build = kindOf(saga) === 'action' ? step.action : step.compensation;
  return build ? build(saga.data) : null;
}

/** The earliest time `dueTransition` has something to do, or null if only a reply can move it. */
export function dueAt(saga: SagaProgress<unknown>): number | null {
  const times = [saga.stepDeadline, saga.nextAttemptAt];
  if (saga.status === 'RUNNING') times.push(saga.sagaDeadline);
  else if (saga.status !== 'COMPENSATING') return null;
  const due = times.filter((t): t is Date => t !== null).map((t) => t.getTime());
  return due.length === 0 ? null : Math.min(...due);
}

/** The fields a transition replaces; the rest of an instance (id, version, lease) is the store's. */
export function progressOf<D>(saga: SagaProgress<D>): SagaProgress<D> {
  return {
    status: saga.status,
    stepIndex: saga.stepIndex,
    attempt: saga.attempt,
    data: saga.data,
    stepDeadline: saga.stepDeadline,
    sagaDeadline: saga.sagaDeadline,
    nextAttemptAt: saga.nextAttemptAt,
    failureReason: saga.failureReason,
    parkedFrom: saga.parkedFrom,
    parkedReason: saga.parkedReason,
  };
}

function kindOf(saga: SagaProgress<unknown>): SagaCommandKind {
  return saga.status === 'RUNNING' ? 'action' : 'compensation';
}

/** The history line for the outcome of the command the saga awaits (or last awaited). */
function line(
  saga: SagaInstance<unknown>,
  outcome: SagaHistoryEntry['outcome'],
  reason: string | null,
): Omit<SagaHistoryEntry, 'at'> {
  return {
    step: saga.currentStep,
    kind: kindOf(saga),
    attempt: saga.attempt,
    outcome,
    reason,
    commandId: saga.awaitedCommandId,
  };
}

function mustSucceed<D>(step: SagaStep<D>, kind: SagaCommandKind): boolean {
  return kind === 'compensation' || step.retriedUntilSuccess;
}

function at(ms: number): Date {
  return new Date(ms);
}

/** Next forward step, or COMPLETED after the last one. */
function advance<D>(
  definition: SagaDefinition<D>,
  saga: SagaProgress<D>,
  history: SagaTransition<D>['history'],
  ctx: MachineContext,
): SagaTransition<D> {
  const nextIndex = saga.stepIndex + 1;
  if (nextIndex >= definition.steps.length) {
    // Every step succeeded and none will be compensated: close the branches that could be.
    const settlements = definition.steps.flatMap((step) =>
      step.settlement ? [step.settlement(saga.data)] : [],
    );
    return {
      next: { ...saga, status: 'COMPLETED', ...idle(), sagaDeadline: null },
      send: null,
      history,
      terminal: 'COMPLETED',
      settlements,
    };
  }
  const nextStep = definition.steps[nextIndex];
  return sendStep(definition, {
    progress: {
      ...saga,
      stepIndex: nextIndex,
      attempt: 0,
      // Past the pivot the saga can no longer be undone, so running out of time means nothing.
      sagaDeadline: nextStep.retriedUntilSuccess ? null : saga.sagaDeadline,
    },
    history,
    ctx,
  });
}

/**
 * Compensate the steps from `fromIndex` down to 0 in reverse order, skipping steps with nothing
 * to undo; COMPENSATED when none is left.
 */
function compensateFrom<D>(
  definition: SagaDefinition<D>,
  saga: SagaProgress<D>,
  fromIndex: number,
  history: SagaTransition<D>['history'],
  ctx: MachineContext,
): SagaTransition<D> {
  let index = fromIndex;
  while (index >= 0 && definition.steps[index].compensation === null) index--;
  if (index < 0) {
    return {
      next: { ...saga, status: 'COMPENSATED', stepIndex: Math.max(fromIndex, 0), ...idle() },
      send: null,
      history,
      terminal: 'COMPENSATED',
    };
  }
  return sendStep(definition, {
    progress: { ...saga, status: 'COMPENSATING', stepIndex: index, attempt: 0, sagaDeadline: null },
    history,
    ctx,
    kind: 'compensation',
  });
}

/** Wait a backoff, then re-send the same step (a new message, the same business request). */
function retryLater<D>(
  saga: SagaProgress<D>,
  history: SagaTransition<D>['history'],
  ctx: MachineContext,
): SagaTransition<D> {
  const delay = backoffDelayMs(saga.attempt, ctx.policy.backoff, ctx.random);
  return {
    next: { ...saga, stepDeadline: null, nextAttemptAt: at(ctx.now + delay) },
    send: null,
    history,
    terminal: null,
  };
}

function retryOrPark<D>(
  definition: SagaDefinition<D>,
  saga: SagaProgress<D>,
  kind: SagaCommandKind,
  reason: string,
  history: SagaTransition<D>['history'],
  ctx: MachineContext,
): SagaTransition<D> {
  if (saga.attempt < ctx.policy.parkAfterAttempts) return retryLater(saga, history, ctx);
  const step = definition.steps[saga.stepIndex];
  const parkedReason = `${kind} ${step.name} failed ${saga.attempt} times (last: ${reason})`;
  return {
    next: {
      ...saga,
      status: 'PARKED',
      ...idle(),
      parkedFrom: saga.status === 'RUNNING' ? 'RUNNING' : 'COMPENSATING',
      parkedReason,
    },
    send: null,
    history: [
      ...history,
      {
        step: step.name,
        kind,
        attempt: saga.attempt,
        outcome: 'PARKED',
        reason: parkedReason,
        commandId: null,
      },
    ],
    terminal: 'PARKED',
  };
}

function sendStep<D>(
  definition: SagaDefinition<D>,
  args: {
    progress: SagaProgress<D>;
    history: SagaTransition<D>['history'];
    ctx: MachineContext;
    kind?: SagaCommandKind;
  },
): SagaTransition<D> {
  const { progress, history, ctx } = args;
  const kind = args.kind ?? 'action';
  const step = definition.steps[progress.stepIndex];
  const build = kind === 'action' ? step.action : step.compensation;
  if (!build) throw new SagaStateError(`Step ${step.name} of ${definition.type} has no ${kind}`);
  return {
    next: {
      ...progress,
      attempt: progress.attempt + 1,
      stepDeadline: at(ctx.now + ctx.policy.stepTimeoutMs),
      nextAttemptAt: null,
    },
    send: { step: step.name, kind, command: build(progress.data) },
    history,
    terminal: null,
  };
}

function idle(): Pick<SagaProgress<unknown>, 'stepDeadline' | 'nextAttemptAt' | 'sagaDeadline'> {
  return { stepDeadline: null, nextAttemptAt: null, sagaDeadline: null };
}
