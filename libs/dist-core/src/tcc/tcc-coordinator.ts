import type { EntityManager } from 'typeorm';
import {
  FlowEngine,
  type EngineOptions,
  type FlowReply,
  type HistoryLine,
  type IgnoredReply,
} from '../engine/index.js';
import { observeSteps, policyOf } from '../engine/flow-engine.js';
import type { FlowProtocol } from '../engine/flow-steps.js';
import { activeTraceparent } from '../observability/index.js';
import type { Outbox } from '../outbox/index.js';
import {
  DEFAULT_TCC_POLICY,
  type TccDefinition,
  type TccPolicy,
  type TccTransaction,
} from './tcc-definition.js';
import {
  beginTransition,
  dueTransition,
  replyTransition,
  stepRecords,
  type MachineContext,
  type TccTransition,
} from './tcc-machine.js';
import { TccStore } from './tcc-store.js';

export type TccCoordinatorOptions = EngineOptions & Partial<TccPolicy>;

export class TccAlreadyBegunError extends Error {
  constructor(gid: string) {
    super(`A TCC transaction with gid ${gid} already exists`);
    this.name = 'TccAlreadyBegunError';
  }
}

/**
 * Drives TCC transactions stored in Postgres on the engine's skeleton. Every change is: read
 * the transaction, let the pure state machine decide, then one compare-and-set on (gid, status,
 * version) that writes the new state and history, after which the commands go out through the
 * transactional outbox in the same local transaction.
 */
export class TccCoordinator<I> extends FlowEngine<TccTransaction<I>, TccTransition> {
  private readonly store: TccStore<I>;
  private readonly policy: TccPolicy;

  constructor(
    private readonly definition: TccDefinition<I>,
    private readonly outbox: Pick<Outbox, 'enqueue' | 'nextId'>,
    options: TccCoordinatorOptions,
    /** The flow label: a two-phase commit is this coordinator under another name (../twopc). */
    protocol: Extract<FlowProtocol, 'tcc' | '2pc'> = 'tcc',
  ) {
    const store = new TccStore<I>(definition.kind);
    super(protocol, store, options);
    if (definition.branches.length === 0) throw new Error(`TCC ${definition.kind} has no branches`);
    const names = new Set(definition.branches.map((b) => b.name));
    if (names.size !== definition.branches.length) {
      throw new Error(`TCC ${definition.kind}: branch names must be unique`);
    }
    this.store = store;
    this.policy = policyOf(DEFAULT_TCC_POLICY, options);
  }

  /**
   * Begins a transaction inside the caller's transaction (the one that creates the order): the
   * log row and the first Try commit together with the business row, or not at all.
   */
  async begin(manager: EntityManager, gid: string, input: I): Promise<TccTransaction<I>> {
    this.requireTransaction(manager, 'begin');
    const ctx = this.context(this.clock.now());
    const transition = beginTransition(this.definition, gid, input, ctx);
    const now = new Date(ctx.now);
    const kind = this.definition.kind;
    const traceparent = activeTraceparent();
    const progress = transition.next;
    this.assignCommandIds(transition);
    if (!(await this.store.insert(manager, { gid, kind, input, progress, now, traceparent }))) {
      throw new TccAlreadyBegunError(gid);
    }
    const tx: TccTransaction<I> = {
      gid,
      kind,
      input,
      ...transition.next,
      version: '0',
      leaseOwner: null,
      leaseUntil: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.sendAndFinish(manager, tx, transition, null);
    return tx;
  }

  find(manager: EntityManager, gid: string): Promise<TccTransaction<I> | null> {
    return this.store.load(manager, gid);
  }

  async history(manager: EntityManager, gid: string): Promise<HistoryLine[]> {
    return (await this.store.load(manager, gid))?.history ?? [];
  }

  /** The Try type of the branch whose awaited command `causationId` is, if any. */
  protected awaitedType(tx: TccTransaction<I>, causationId: string | null): string | null {
    const index = tx.branches.findIndex(
      (b) => causationId !== null && b.awaitedCommandId === causationId,
    );
    return index < 0 ? null : this.definition.branches[index].types.try;
  }

  protected onReply(
    tx: TccTransaction<I>,
    causationId: string | null,
    reply: FlowReply,
    now: number,
  ): TccTransition | IgnoredReply {
    return replyTransition(this.definition, tx, causationId, reply, this.context(now));
  }

  protected onDue(tx: TccTransaction<I>, now: number): TccTransition | null {
    return dueTransition(this.definition, tx, this.context(now));
  }

  /** Compare-and-set, then commands and hook; false if the transaction moved meanwhile. */
  protected async commit(
    manager: EntityManager,
    tx: TccTransaction<I>,
    transition: TccTransition,
    nowMs: number,
    causedBy: string | null,
  ): Promise<boolean> {
    const now = new Date(nowMs);
    this.assignCommandIds(transition);
    const version = await this.store.compareAndSet(manager, tx, transition.next, now);
    if (version === null) return false;
    observeSteps(this.protocol, stepRecords(tx, transition.next), nowMs);
    const after: TccTransaction<I> = {
      ...tx,
      ...transition.next,
      version,
      leaseOwner: null,
      leaseUntil: null,
      updatedAt: now,
    };
    await this.sendAndFinish(manager, after, transition, causedBy);
    return true;
  }

  private context(now: number): MachineContext {
    return { now, policy: this.policy, random: this.random };
  }

  /**
   * Gives the transition's commands their message ids before the row is written, so the insert
   * or compare-and-set stores them as the awaited ones in the same statement (no second UPDATE
   * of the row per step).
   */
  private assignCommandIds(transition: TccTransition): void {
    for (const command of transition.send) {
      transition.next.branches[command.branch].awaitedCommandId = this.outbox.nextId();
    }
  }

  /** Enqueues the transition's commands under the ids the row awaits, then runs the hooks. */
  private async sendAndFinish(
    manager: EntityManager,
    tx: TccTransaction<I>,
    transition: TccTransition,
    causedBy: string | null,
  ): Promise<void> {
    for (const command of transition.send) {
      const branch = this.definition.branches[command.branch];
      const state = tx.branches[command.branch];
      await this.outbox.enqueue(manager, {
        id: state.awaitedCommandId!,
        topic: branch.topics[command.op],
        type: branch.types[command.op],
        correlationId: tx.gid,
        causationId: causedBy,
        payload: { ...state.payload, gid: tx.gid, branch: branch.name },
      });
    }
    const hooks = this.definition.hooks ?? {};
    if (transition.terminal === 'CONFIRMED') await hooks.onConfirmed?.(manager, tx);
    if (transition.terminal === 'CANCELLED') {
      await hooks.onCancelled?.(manager, tx, tx.reason ?? 'FAILED');
    }
  }
}
