import type { TccOp } from '../barrier/index.js';
import type { TccBranch, TccDefinition, TccHooks, TccRoute } from '../tcc/index.js';

/**
 * A two-phase commit is TCC's coordinator protocol with other words (see README.md): prepare is
 * the Try, commit the Confirm, rollback the Cancel. These are the words its history lines use.
 */
export const TWO_PC_OPS: Readonly<Record<TccOp, string>> = {
  try: 'prepare',
  confirm: 'commit',
  cancel: 'rollback',
};

/** The part of a participant that must come first: what its prepare asks for. */
export interface ParticipantStart<I, T extends string> {
  prepares(route: TccRoute<T>, payload: TccBranch<I>['tryPayload']): ParticipantBuilder<I, T>;
}

/** Immutable, like the TCC branch builder: every call returns a new builder. */
export class ParticipantBuilder<I, T extends string> {
  constructor(readonly branch: TccBranch<I>) {}

  committedBy(route: TccRoute<T>): ParticipantBuilder<I, T> {
    return this.decision('confirm', route);
  }

  rolledBackBy(route: TccRoute<T>): ParticipantBuilder<I, T> {
    return this.decision('cancel', route);
  }

  private decision(op: 'confirm' | 'cancel', route: TccRoute<T>): ParticipantBuilder<I, T> {
    const { name, topics, types } = this.branch;
    // A prepared transaction holds its row locks until its decision. A decision queued on the
    // prepares' topic would wait behind prepares that wait for those very locks.
    if (route.topic === topics.try) {
      throw new Error(`2PC participant ${name}: ${route.type} must not travel with its prepare`);
    }
    const other = op === 'confirm' ? types.cancel : types.confirm;
    const otherTopic = op === 'confirm' ? topics.cancel : topics.confirm;
    if (other && otherTopic !== route.topic) {
      throw new Error(`2PC participant ${name}: commit and rollback go to one decisions topic`);
    }
    return new ParticipantBuilder({
      ...this.branch,
      topics: { ...topics, [op]: route.topic },
      types: { ...types, [op]: route.type },
    });
  }
}

/**
 * A two-phase commit read top to bottom, in the TCC's builder shape: its participants in the
 * order they are prepared, then what ends it. It is a TccDefinition, so TCC's machine, store and
 * coordinator run it unchanged (TwoPhaseCommitCoordinator).
 */
export class TwoPhaseCommitDefinition<I, T extends string = string> implements TccDefinition<I> {
  readonly opNames = TWO_PC_OPS;

  constructor(
    readonly kind: string,
    readonly branches: readonly TccBranch<I>[] = [],
    readonly hooks: TccHooks<I> = {},
  ) {}

  participant(
    name: string,
    build: (start: ParticipantStart<I, T>) => ParticipantBuilder<I, T>,
  ): TwoPhaseCommitDefinition<I, T> {
    if (this.branches.some((b) => b.name === name)) {
      throw new Error(`2PC ${this.kind}: participant ${name} is defined twice`);
    }
    const start: ParticipantStart<I, T> = {
      prepares: ({ topic, type }, tryPayload) =>
        new ParticipantBuilder({
          name,
          topics: { try: topic, confirm: '', cancel: '' },
          types: { try: type, confirm: '', cancel: '' },
          tryPayload,
        }),
    };
    const { branch } = build(start);
    if (!branch.types.confirm || !branch.types.cancel) {
      throw new Error(`2PC ${this.kind}: participant ${name} needs its commit and its rollback`);
    }
    return new TwoPhaseCommitDefinition(this.kind, [...this.branches, branch], this.hooks);
  }

  /** Runs in the transaction that records the last commit acknowledgement. */
  onCommitted(hook: NonNullable<TccHooks<I>['onConfirmed']>): TwoPhaseCommitDefinition<I, T> {
    return new TwoPhaseCommitDefinition(this.kind, this.branches, {
      ...this.hooks,
      onConfirmed: hook,
    });
  }

  /** Runs in the transaction that records the last rollback acknowledgement, with the reason. */
  onRolledBack(hook: NonNullable<TccHooks<I>['onCancelled']>): TwoPhaseCommitDefinition<I, T> {
    return new TwoPhaseCommitDefinition(this.kind, this.branches, {
      ...this.hooks,
      onCancelled: hook,
    });
  }
}

/**
 * Starts a two-phase commit's definition:
 *
 *   defineTwoPhaseCommit<OrderFlowInput, OrderFlowMessageType>('order-2pc')
 *     .participant('inventory', (p) => p.prepares(route('inventory.2pc.prepare'), stock)
 *       .committedBy(route('inventory.2pc.commit')).rolledBackBy(route('inventory.2pc.rollback')))
 *     .participant('payment', ...)
 *     .onCommitted(markOrderCompleted)
 *     .onRolledBack(markOrderCancelled);
 */
export function defineTwoPhaseCommit<I, T extends string = string>(
  kind: string,
): TwoPhaseCommitDefinition<I, T> {
  return new TwoPhaseCommitDefinition<I, T>(kind);
}
