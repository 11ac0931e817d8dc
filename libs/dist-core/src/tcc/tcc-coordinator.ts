import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { withLinkedTrace, type Envelope, type MessageCatalog } from '../kafka/index.js';
import { activeTraceparent } from '../observability/index.js';
import type { Outbox } from '../outbox/index.js';
import { systemClock, type Clock } from '../snowflake/index.js';
import {
  DEFAULT_TCC_POLICY,
  type TccDefinition,
  type TccPolicy,
  type TccReply,
  type TccTransaction,
} from './tcc-definition.js';
import {
  beginTransition,
  dueTransition,
  replyTransition,
  type IgnoredReply,
  type MachineContext,
  type TccTransition,
} from './tcc-machine.js';
import { observeTccSteps } from './tcc-metrics.js';
import { TccStore } from './tcc-store.js';
import { transactionOf } from '../barrier/transactional-query.js';

export interface TccCoordinatorOptions extends Partial<TccPolicy> {
  /**
   * The contracts of the branches' commands and of the replies: which participant each goes to
   * or comes from. A reply is applied only if its sender is the participant of the command it
   * answers.
   */
  messages: Pick<MessageCatalog, 'participantOf'>;
  /** This instance's name on the leases it takes. Default: host, pid and a random suffix. */
  owner?: string;
  /** How long a claim by `tick` keeps other instances off a transaction. */
  leaseMs?: number;
  /** Transactions claimed per `tick`. */
  batchSize?: number;
  clock?: Clock;
  random?: () => number;
}

export type TccReplyResult = 'APPLIED' | 'UNKNOWN_TRANSACTION' | IgnoredReply;

export class TccAlreadyBegunError extends Error {
  constructor(gid: string) {
    super(`A TCC transaction with gid ${gid} already exists`);
    this.name = 'TccAlreadyBegunError';
  }
}

export class TccReplyError extends Error {
  constructor(envelope: Envelope, problem: string) {
    super(`Reply ${envelope.id} (${envelope.type}) to TCC ${envelope.correlationId}: ${problem}`);
    this.name = 'TccReplyError';
  }
}

// A compare-and-set that loses re-reads and decides again; losing this often in a row means a
// hot loop, not contention (a transaction has at most one change per reply or due time).
const MAX_CAS_ROUNDS = 5;

/**
 * Drives TCC transactions stored in Postgres. Every change is: read the transaction, let the
 * pure state machine decide, then one compare-and-set on (gid, status, version) that writes the
 * new state, after which the commands go out through the transactional outbox in the same local
 * transaction. Nothing that matters lives in memory or in a timer: the deadline and the next
 * re-send are columns, and `tick` on any instance drives whatever is due, a crashed instance's
 * transactions included.
 */
export class TccCoordinator<I> {
  private readonly store = new TccStore();
  private readonly policy: TccPolicy;
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly messages: Pick<MessageCatalog, 'participantOf'>;
  private readonly logger = new Logger(TccCoordinator.name);

  constructor(
    private readonly definition: TccDefinition<I>,
    private readonly outbox: Pick<Outbox, 'enqueue' | 'nextId'>,
    options: TccCoordinatorOptions,
  ) {
    this.messages = options.messages;
    if (definition.branches.length === 0) throw new Error(`TCC ${definition.kind} has no branches`);
    const names = new Set(definition.branches.map((b) => b.name));
    if (names.size !== definition.branches.length) {
      throw new Error(`TCC ${definition.kind}: branch names must be unique`);
    }
    this.policy = {
      tryTimeoutMs: options.tryTimeoutMs ?? DEFAULT_TCC_POLICY.tryTimeoutMs,
      retryBaseMs: options.retryBaseMs ?? DEFAULT_TCC_POLICY.retryBaseMs,
      retryMaxMs: options.retryMaxMs ?? DEFAULT_TCC_POLICY.retryMaxMs,
    };
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.batchSize = options.batchSize ?? 20;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  /**
   * Begins a transaction inside the caller's transaction (the one that creates the order): the
   * log row and the first Try commit together with the business row, or not at all.
   */
  async begin(manager: EntityManager, gid: string, input: I): Promise<TccTransaction<I>> {
    transactionOf(manager, 'TccCoordinator.begin');
    const ctx = this.context();
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

  /**
   * Applies a participant's reply. Call it inside the transaction in which the inbox records
   * the reply (`handleOnce`), so the inbox row, the change and the next commands commit
   * together. Late, duplicate and superseded replies are normal and say why they changed
   * nothing; a payload that is not a reply, or a reply to a branch's awaited command from
   * another participant than that branch's, throws (a poison message for the dead-letter topic).
   */
  async handleReply(manager: EntityManager, envelope: Envelope): Promise<TccReplyResult> {
    transactionOf(manager, 'TccCoordinator.handleReply');
    const reply = parseReply(envelope);
    const sender = this.messages.participantOf(envelope.type);
    if (sender === undefined) throw new TccReplyError(envelope, 'its type names no participant');
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const tx = await this.store.load<I>(manager, envelope.correlationId);
      if (!tx || tx.kind !== this.definition.kind) return 'UNKNOWN_TRANSACTION';
      this.requireAsked(envelope, sender, tx);
      const ctx = this.context();
      const transition = replyTransition(this.definition, tx, envelope.causationId, reply, ctx);
      if (typeof transition === 'string') return transition;
      if (await this.apply(manager, tx, transition, ctx.now, envelope.id)) return 'APPLIED';
    }
    throw new Error(`TCC ${envelope.correlationId}: lost ${MAX_CAS_ROUNDS} races in a row`);
  }

  /**
   * One recovery pass, for a timer on every instance: claims the transactions with something
   * due (the Try deadline, a Confirm/Cancel re-send) and drives each in its own transaction.
   * Returns how many moved.
   */
  async tick(dataSource: DataSource): Promise<number> {
    let moved = 0;
    for (const gid of await this.claimDue(dataSource)) {
      try {
        if (await this.drive(dataSource, gid)) moved++;
      } catch (error) {
        // Rolled back; the lease runs out and this or another instance tries again.
        this.logger.error({
          msg: `TCC ${gid}: ${(error as Error).stack ?? String(error)}`,
          orderId: gid,
        });
      }
    }
    return moved;
  }

  /** The first half of `tick`: lease due transactions to this instance. */
  async claimDue(dataSource: DataSource): Promise<string[]> {
    const now = this.clock.now();
    return this.store.claimDue(dataSource.manager, {
      kind: this.definition.kind,
      owner: this.owner,
      now: new Date(now),
      leaseUntil: new Date(now + this.leaseMs),
      limit: this.batchSize,
    });
  }

  /**
   * Applies whatever time has made due for one transaction; false if nothing was (any more).
   * This is new work, not a reply to a message: it runs in a trace of its own, linked to the
   * transaction's.
   */
  async drive(dataSource: DataSource, gid: string): Promise<boolean> {
    return withLinkedTrace('tcc recover', { orderId: gid }, (linkTo) =>
      dataSource.transaction(async (manager) => {
        for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
          const tx = await this.store.load<I>(manager, gid);
          if (!tx) return false;
          const ctx = this.context();
          const transition = dueTransition(tx, ctx);
          if (!transition) {
            await this.store.releaseLease(manager, gid, this.owner);
            return false;
          }
          if (round === 0) linkTo(await this.store.traceparent(manager, gid));
          if (await this.apply(manager, tx, transition, ctx.now, null)) return true;
        }
        throw new Error(`TCC ${gid}: lost ${MAX_CAS_ROUNDS} races in a row`);
      }),
    );
  }

  find(manager: EntityManager, gid: string): Promise<TccTransaction<I> | null> {
    return this.store.load<I>(manager, gid);
  }

  /** A reply to a branch's awaited command must come from that branch's participant. */
  private requireAsked(envelope: Envelope, sender: string, tx: TccTransaction<I>): void {
    const { causationId } = envelope;
    const index = tx.branches.findIndex(
      (b) => causationId !== null && b.awaitedCommandId === causationId,
    );
    if (index < 0) return; // not awaited: the machine ignores it anyway
    const branch = this.definition.branches[index];
    const asked = this.messages.participantOf(branch.types.try);
    if (asked !== sender) {
      throw new TccReplyError(
        envelope,
        `it answers branch ${branch.name}'s command to ${asked ?? 'no participant'} but comes from ${sender}`,
      );
    }
  }

  private context(): MachineContext {
    return { now: this.clock.now(), policy: this.policy, random: this.random };
  }

  /** Compare-and-set, then commands and hook; false if the transaction moved meanwhile. */
  private async apply(
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
    observeTccSteps(tx, transition.next, nowMs);
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
        topic: branch.topic,
        type: branch.types[command.op],
        correlationId: tx.gid,
        causationId: causedBy,
        payload: { ...state.payload, gid: tx.gid, branch: branch.name },
      });
    }
    if (transition.terminal === 'CONFIRMED') await this.definition.onConfirmed?.(manager, tx);
    if (transition.terminal === 'CANCELLED') {
      await this.definition.onCancelled?.(manager, tx, tx.reason ?? 'FAILED');
    }
  }
}

function parseReply(envelope: Envelope): TccReply {
  const payload = envelope.payload as Partial<TccReply> | null;
  if (typeof payload !== 'object' || payload === null) {
    throw new TccReplyError(envelope, 'payload is not an object');
  }
  if (payload.outcome !== 'SUCCESS' && payload.outcome !== 'FAILURE') {
    throw new TccReplyError(envelope, 'outcome must be SUCCESS or FAILURE');
  }
  if (payload.reason !== undefined && typeof payload.reason !== 'string') {
    throw new TccReplyError(envelope, 'reason must be a string');
  }
  return payload as TccReply;
}
