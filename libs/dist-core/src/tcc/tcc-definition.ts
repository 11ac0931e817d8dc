import type { EntityManager } from 'typeorm';
import type { BackoffPolicy, HistoryLine } from '../engine/index.js';
import type { TccOp } from '../barrier/index.js';

/**
 * TRYING → CONFIRMING → CONFIRMED when every Try succeeded, or TRYING → CANCELLING → CANCELLED
 * on the first failure or at the deadline. Phase two never gives up: a Confirm or Cancel is
 * sent again with capped backoff until its participant answers SUCCESS.
 */
export type TccStatus = 'TRYING' | 'CONFIRMING' | 'CANCELLING' | 'CONFIRMED' | 'CANCELLED';

/** What the branches' Try commands are built from: the input and the replies gathered so far. */
export interface TccContext<I> {
  gid: string;
  input: I;
  /** Each succeeded Try's reply data (its payload without outcome and reason), by branch name. */
  results: Record<string, Record<string, unknown>>;
}

/** One participant's part: where its commands go and what its Try asks for. */
export interface TccBranch<I> {
  /** The branch name in the participant's barrier, unique within the transaction. */
  name: string;
  /**
   * Where each command goes. A TCC branch's three all go to its participant's command topic; a
   * two-phase commit sends its decisions (Confirm = commit, Cancel = rollback) to another.
   */
  topics: Record<TccOp, string>;
  /** The message type of each command. */
  types: Record<TccOp, string>;
  /**
   * The Try's payload. Branches are tried one after another, in order, so a later branch can
   * use an earlier one's reply (the payment Try charges the total the inventory Try priced).
   * Confirm and Cancel carry the same payload, so a participant needs no lookup to settle.
   */
  tryPayload(context: TccContext<I>): object;
}

export interface TccHooks<I> {
  /** Runs in the transaction that records the last Confirm (e.g. set the order COMPLETED). */
  onConfirmed?: (manager: EntityManager, tx: TccTransaction<I>) => Promise<void>;
  /** Runs in the transaction that records the last Cancel (e.g. set CANCELLED and the reason). */
  onCancelled?: (manager: EntityManager, tx: TccTransaction<I>, reason: string) => Promise<void>;
}

export interface TccDefinition<I> {
  /** Names this kind of transaction in the log; a coordinator drives only its own kind. */
  readonly kind: string;
  readonly branches: readonly TccBranch<I>[];
  readonly hooks?: TccHooks<I>;
  /**
   * The words history lines use for the three operations (`inventory.try`): TCC's own unless
   * given. A two-phase commit, the same coordinator, says prepare, commit and rollback.
   */
  readonly opNames?: Readonly<Record<TccOp, string>>;
}

/** The history's word for `op` in this definition's vocabulary. */
export function opName(definition: Pick<TccDefinition<unknown>, 'opNames'>, op: TccOp): string {
  return definition.opNames?.[op] ?? op;
}

/** A message type and the topic it travels on, as a message catalog's `route` gives it. */
export interface TccRoute<T extends string> {
  topic: string;
  type: T;
}

/** The part of a branch that must come first: what its Try asks for. */
export interface BranchStart<I, T extends string> {
  tries(route: TccRoute<T>, payload: TccBranch<I>['tryPayload']): BranchBuilder<I, T>;
}

/** Immutable, like the saga's step builder: every call returns a new builder. */
export class BranchBuilder<I, T extends string> {
  constructor(readonly branch: TccBranch<I>) {}

  confirmedBy(route: TccRoute<T>): BranchBuilder<I, T> {
    return this.phaseTwo('confirm', route);
  }

  cancelledBy(route: TccRoute<T>): BranchBuilder<I, T> {
    return this.phaseTwo('cancel', route);
  }

  private phaseTwo(op: 'confirm' | 'cancel', route: TccRoute<T>): BranchBuilder<I, T> {
    // One topic per participant: its Confirm and Cancel go where its Try went.
    if (route.topic !== this.branch.topics.try) {
      throw new Error(
        `TCC branch ${this.branch.name}: ${route.type} is not on ${this.branch.topics.try}`,
      );
    }
    const { topics, types } = this.branch;
    return new BranchBuilder({
      ...this.branch,
      topics: { ...topics, [op]: route.topic },
      types: { ...types, [op]: route.type },
    });
  }
}

/**
 * A TCC transaction read top to bottom, in the saga's builder shape: its branches in the order
 * they are tried, then what ends it. `T` is the message catalog's type names, so a renamed type
 * breaks the build.
 */
export class TccFlowDefinition<I, T extends string = string> implements TccDefinition<I> {
  constructor(
    readonly kind: string,
    readonly branches: readonly TccBranch<I>[] = [],
    readonly hooks: TccHooks<I> = {},
  ) {}

  branch(
    name: string,
    build: (start: BranchStart<I, T>) => BranchBuilder<I, T>,
  ): TccFlowDefinition<I, T> {
    if (this.branches.some((b) => b.name === name)) {
      throw new Error(`TCC ${this.kind}: branch ${name} is defined twice`);
    }
    const start: BranchStart<I, T> = {
      tries: ({ topic, type }, tryPayload) =>
        new BranchBuilder({
          name,
          topics: { try: topic, confirm: topic, cancel: topic },
          types: { try: type, confirm: '', cancel: '' },
          tryPayload,
        }),
    };
    const { branch } = build(start);
    if (!branch.types.confirm || !branch.types.cancel) {
      throw new Error(`TCC ${this.kind}: branch ${name} needs its Confirm and its Cancel`);
    }
    return new TccFlowDefinition(this.kind, [...this.branches, branch], this.hooks);
  }

  onConfirmed(hook: NonNullable<TccHooks<I>['onConfirmed']>): TccFlowDefinition<I, T> {
    return new TccFlowDefinition(this.kind, this.branches, { ...this.hooks, onConfirmed: hook });
  }

  onCancelled(hook: NonNullable<TccHooks<I>['onCancelled']>): TccFlowDefinition<I, T> {
    return new TccFlowDefinition(this.kind, this.branches, { ...this.hooks, onCancelled: hook });
  }
}

/**
 * Starts a TCC definition, in the saga's shape:
 *
 *   defineTcc<OrderFlowInput, OrderFlowMessageType>('order')
 *     .branch('inventory', (b) => b.tries(route('inventory.tcc.try'), stock)
 *       .confirmedBy(route('inventory.tcc.confirm')).cancelledBy(route('inventory.tcc.cancel')))
 *     .branch('payment', ...)
 *     .onConfirmed(markOrderCompleted)
 *     .onCancelled(markOrderCancelled);
 */
export function defineTcc<I, T extends string = string>(kind: string): TccFlowDefinition<I, T> {
  return new TccFlowDefinition<I, T>(kind);
}

export interface TccPolicy {
  /** From begin until a Try that has not answered counts as failed (reason TIMEOUT). */
  tryTimeoutMs: number;
  /** Confirm/Cancel re-sends. */
  backoff: BackoffPolicy;
}

export const DEFAULT_TCC_POLICY: TccPolicy = {
  tryTimeoutMs: 10_000,
  backoff: { baseMs: 1_000, maxMs: 10_000 },
};

export interface TccBranchState {
  name: string;
  /** The Try's payload; null until the Try is sent. */
  payload: object | null;
  try: 'NOT_SENT' | 'SENT' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  /** Phase two for this branch: null until decided, PENDING until its participant says SUCCESS. */
  settle: 'PENDING' | 'DONE' | null;
  /** The command whose reply this branch waits for: the only reply it accepts. */
  awaitedCommandId: string | null;
}

/** The part of a transaction one compare-and-set replaces. Times are epoch milliseconds. */
export interface TccProgress {
  status: TccStatus;
  results: Record<string, Record<string, unknown>>;
  branches: TccBranchState[];
  history: HistoryLine[];
  reason: string | null;
  /** Rounds of phase-two commands sent so far (0 while trying). */
  attempts: number;
  /** When TRYING gives up. */
  deadline: number;
  /** When the poller must look again (the deadline, or the next re-send); null once finished. */
  nextAttemptAt: number | null;
}

export interface TccTransaction<I = unknown> extends TccProgress {
  gid: string;
  kind: string;
  input: I;
  /** bigint, incremented by every transition: the compare-and-set's guard. */
  version: string;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}
