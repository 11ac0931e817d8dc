import {
  backoffDelayMs,
  TIMEOUT_REASON,
  type FlowReply,
  type IgnoredReply,
} from '../engine/index.js';
import type { StepRecord } from '../engine/flow-engine.js';
import type { TccOp } from '../barrier/index.js';
import {
  opName,
  type TccBranchState,
  type TccDefinition,
  type TccPolicy,
  type TccProgress,
  type TccStatus,
  type TccTransaction,
} from './tcc-definition.js';

/**
 * The TCC coordinator's state machine, pure: (definition, transaction, event, now) → transition.
 * No I/O and no clock of its own, so a transition can be recomputed when its compare-and-set
 * loses a race, and unit tests drive it without a database.
 */

export interface MachineContext {
  now: number;
  policy: TccPolicy;
  random: () => number;
}

/** A command to send; its envelope id becomes the branch's awaited command id. */
export interface TccCommand {
  branch: number;
  op: TccOp;
}

export interface TccTransition {
  next: TccProgress;
  send: TccCommand[];
  /** Set when this transition ends the transaction: the definition's hook runs with it. */
  terminal: 'CONFIRMED' | 'CANCELLED' | null;
}

function isFinished(status: TccStatus): boolean {
  return status === 'CONFIRMED' || status === 'CANCELLED';
}

/** Tries the first branch; the deadline covers the whole trying phase. */
export function beginTransition<I>(
  definition: TccDefinition<I>,
  gid: string,
  input: I,
  ctx: MachineContext,
): TccTransition {
  const deadline = ctx.now + ctx.policy.tryTimeoutMs;
  const next: TccProgress = {
    status: 'TRYING',
    results: {},
    branches: definition.branches.map((b): TccBranchState => ({
      name: b.name,
      payload: null,
      try: 'NOT_SENT',
      settle: null,
      awaitedCommandId: null,
    })),
    history: [],
    reason: null,
    attempts: 0,
    deadline,
    nextAttemptAt: deadline,
  };
  return { next, send: [sendTry(definition, next, 0, gid, input)], terminal: null };
}

/**
 * Applies a participant's reply, if it answers the command its branch awaits (the reply's
 * causation id). A reply to any other command — a duplicate, one superseded by a re-send, a Try
 * answered after the transaction was decided — changes nothing.
 */
export function replyTransition<I>(
  definition: TccDefinition<I>,
  tx: TccTransaction<I>,
  causationId: string | null,
  reply: FlowReply,
  ctx: MachineContext,
): TccTransition | IgnoredReply {
  const index = tx.branches.findIndex(
    (b) => causationId !== null && b.awaitedCommandId === causationId,
  );
  if (index < 0) return isFinished(tx.status) ? 'FINISHED' : 'NOT_AWAITED';
  const next = progressOf(tx);
  const branch = next.branches[index];
  branch.awaitedCommandId = null;
  const { outcome, reason } = reply;
  const record = (op: TccOp) =>
    next.history.push({
      step: `${branch.name}.${opName(definition, op)}`,
      outcome,
      reason: reason ?? null,
      at: new Date(ctx.now).toISOString(),
    });

  if (next.status === 'TRYING') {
    // The deadline decides, not which of the reply and the poller gets here first.
    if (ctx.now >= next.deadline) return timeout(definition, next, ctx);
    record('try');
    if (outcome === 'FAILURE') {
      branch.try = 'FAILED';
      return decide(next, 'CANCELLING', reason ?? 'FAILED', ctx);
    }
    branch.try = 'SUCCEEDED';
    const { outcome: _outcome, reason: _reason, ...data } = reply;
    next.results[branch.name] = data;
    if (index + 1 < next.branches.length) {
      return {
        next,
        send: [sendTry(definition, next, index + 1, tx.gid, tx.input)],
        terminal: null,
      };
    }
    return decide(next, 'CONFIRMING', null, ctx);
  }

  record(next.status === 'CONFIRMING' ? 'confirm' : 'cancel');
  // A phase-two FAILURE is not a decision: the command is sent again at nextAttemptAt.
  if (outcome === 'FAILURE') return { next, send: [], terminal: null };
  branch.settle = 'DONE';
  if (next.branches.some((b) => b.settle === 'PENDING')) return { next, send: [], terminal: null };
  const terminal = next.status === 'CONFIRMING' ? 'CONFIRMED' : 'CANCELLED';
  next.status = terminal;
  next.nextAttemptAt = null;
  return { next, send: [], terminal };
}

/** What time alone makes happen: the Try deadline, or a phase-two re-send. Null if nothing is due. */
export function dueTransition<I>(
  definition: TccDefinition<I>,
  tx: TccTransaction<I>,
  ctx: MachineContext,
): TccTransition | null {
  if (tx.status === 'TRYING') {
    return ctx.now >= tx.deadline ? timeout(definition, progressOf(tx), ctx) : null;
  }
  if (isFinished(tx.status) || tx.nextAttemptAt === null || ctx.now < tx.nextAttemptAt) return null;
  const next = progressOf(tx);
  const op: TccOp = next.status === 'CONFIRMING' ? 'confirm' : 'cancel';
  const send = next.branches.flatMap((b, branch) =>
    b.settle === 'PENDING' ? [{ branch, op }] : [],
  );
  next.attempts += 1;
  next.nextAttemptAt = ctx.now + backoffDelayMs(next.attempts, ctx.policy.backoff, ctx.random);
  return { next, send, terminal: null };
}

/**
 * The history lines `after` added to `before`, each with the command its branch awaited
 * before: what the engine's step metrics time.
 */
export function stepRecords(before: TccProgress, after: TccProgress): StepRecord[] {
  return after.history.slice(before.history.length).map(({ step, outcome, reason }) => {
    const branch = before.branches.find((b) => b.name === step.slice(0, step.lastIndexOf('.')));
    return { step, outcome, reason, commandId: branch?.awaitedCommandId ?? null };
  });
}

function progressOf(tx: TccProgress): TccProgress {
  const { status, results, branches, history, reason, attempts, deadline, nextAttemptAt } = tx;
  return structuredClone({
    status,
    results,
    branches,
    history,
    reason,
    attempts,
    deadline,
    nextAttemptAt,
  });
}

function sendTry<I>(
  definition: TccDefinition<I>,
  next: TccProgress,
  index: number,
  gid: string,
  input: I,
): TccCommand {
  const branch = next.branches[index];
  branch.payload = definition.branches[index].tryPayload({ gid, input, results: next.results });
  branch.try = 'SENT';
  return { branch: index, op: 'try' };
}

function timeout<I>(
  definition: TccDefinition<I>,
  next: TccProgress,
  ctx: MachineContext,
): TccTransition {
  const at = new Date(ctx.now).toISOString();
  const step = opName(definition, 'try');
  for (const branch of next.branches.filter((b) => b.try === 'SENT')) {
    branch.try = 'TIMED_OUT';
    next.history.push({ step: `${branch.name}.${step}`, outcome: 'TIMEOUT', reason: null, at });
  }
  return decide(next, 'CANCELLING', TIMEOUT_REASON, ctx);
}

/**
 * Enters phase two: Confirm or Cancel to every branch whose Try was sent — answered or not, as
 * the barrier makes a Cancel before (or without) its Try safe. A branch whose Try was never sent
 * gets nothing: no Try of it can exist, and none is sent any more.
 */
function decide(
  next: TccProgress,
  status: 'CONFIRMING' | 'CANCELLING',
  reason: string | null,
  ctx: MachineContext,
): TccTransition {
  const op = status === 'CONFIRMING' ? 'confirm' : 'cancel';
  next.status = status;
  next.reason = reason;
  const send: TccCommand[] = [];
  next.branches.forEach((branch, index) => {
    branch.awaitedCommandId = null; // a Try answering now is too late to count
    if (branch.try === 'NOT_SENT') return;
    branch.settle = 'PENDING';
    send.push({ branch: index, op });
  });
  next.attempts = 1;
  next.nextAttemptAt = ctx.now + backoffDelayMs(1, ctx.policy.backoff, ctx.random);
  return { next, send, terminal: null };
}
