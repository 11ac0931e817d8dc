import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { withLinkedTrace, type Envelope, type MessageCatalog } from '../kafka/index.js';
import { activeTraceparent } from '../observability/index.js';
import type { Outbox } from '../outbox/index.js';
import { systemClock, type Clock } from '../snowflake/index.js';
import type { SagaCommand, SagaDefinition, SagaReplyPayload } from './saga-definition.js';
import type { SagaHistoryEntry, SagaInstance, SagaStatus } from './saga-instance.js';
import {
  awaitedCommand,
  dueTransition,
  replyTransition,
  resumeTransition,
  startTransition,
  type IgnoredReply,
  type MachineContext,
  type SagaTransition,
} from './saga-machine.js';
import { DEFAULT_SAGA_POLICY, type SagaPolicy } from './saga-policy.js';
import { observeSagaSteps } from './saga-metrics.js';
import { SagaStore } from './saga-store.js';

export interface SagaOrchestratorOptions extends Partial<SagaPolicy> {
  /**
   * The contracts of the commands the sagas send and the replies they take: which participant
   * each goes to or comes from. A reply is applied only if its sender is the participant of
   * the command it answers.
   */
  messages: Pick<MessageCatalog, 'participantOf'>;
  /** This instance's name on the leases it takes. Default: host, pid and a random suffix. */
  owner?: string;
  /** How long a claim by `tick` keeps other instances off a saga. */
  leaseMs?: number;
  /** Sagas claimed per `tick`. */
  batchSize?: number;
  clock?: Clock;
  random?: () => number;
}

export type ReplyResult = 'APPLIED' | 'UNKNOWN_SAGA' | IgnoredReply;

export class SagaReplyError extends Error {
  constructor(envelope: Envelope, problem: string) {
    super(`Reply ${envelope.id} (${envelope.type}) to saga ${envelope.correlationId}: ${problem}`);
    this.name = 'SagaReplyError';
  }
}

export class SagaNotFoundError extends Error {
  constructor(id: string) {
    super(`No saga ${id}`);
    this.name = 'SagaNotFoundError';
  }
}

export class SagaAlreadyStartedError extends Error {
  constructor(id: string) {
    super(`A saga with id ${id} already exists`);
    this.name = 'SagaAlreadyStartedError';
  }
}

// A compare-and-set that loses re-reads and decides again; losing this many times in a row
// means something is badly wrong (a hot loop), not ordinary contention.
const MAX_CAS_ROUNDS = 5;

/**
 * Drives sagas stored in Postgres. Every transition is: read the saga, let the pure state
 * machine decide, then one compare-and-set on (id, status, step, version) that writes the new
 * state, the command it sends (through the transactional outbox) and the history — all in one
 * local transaction. Nothing that matters lives in memory or in a timer: deadlines are
 * columns, and `tick` on any instance drives what is due.
 */
export class SagaOrchestrator {
  private readonly definitions: Map<string, SagaDefinition<unknown>>;
  private readonly store: SagaStore;
  private readonly policy: SagaPolicy;
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly messages: Pick<MessageCatalog, 'participantOf'>;
  private readonly logger = new Logger(SagaOrchestrator.name);

  constructor(
    // `any`: sagas over different data types (a definition is invariant in its data type).
    definitions: SagaDefinition<any>[], // eslint-disable-line @typescript-eslint/no-explicit-any
    private readonly outbox: Pick<Outbox, 'enqueue' | 'nextId'>,
    options: SagaOrchestratorOptions,
  ) {
    this.messages = options.messages;
    this.definitions = new Map(definitions.map((d) => [d.type, d as SagaDefinition<unknown>]));
    for (const d of definitions) {
      if (d.steps.length === 0) throw new Error(`Saga ${d.type} has no steps`);
    }
    this.store = new SagaStore(this.definitions);
    this.policy = {
      stepTimeoutMs: options.stepTimeoutMs ?? DEFAULT_SAGA_POLICY.stepTimeoutMs,
      sagaTimeoutMs: options.sagaTimeoutMs ?? DEFAULT_SAGA_POLICY.sagaTimeoutMs,
      maxStepAttempts: options.maxStepAttempts ?? DEFAULT_SAGA_POLICY.maxStepAttempts,
      parkAfterAttempts: options.parkAfterAttempts ?? DEFAULT_SAGA_POLICY.parkAfterAttempts,
      backoff: options.backoff ?? DEFAULT_SAGA_POLICY.backoff,
    };
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.batchSize = options.batchSize ?? 20;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  /**
   * Starts a saga inside the caller's transaction (the one that creates the order): the saga
   * row and its first command commit together with the business row, or not at all.
   */
  async start<D>(
    manager: EntityManager,
    sagaType: string,
    sagaId: string,
    data: D,
  ): Promise<SagaInstance<D>> {
    requireTransaction(manager, 'start');
    const definition = this.definition(sagaType);
    const ctx = this.context();
    const transition = startTransition(definition, data, ctx);
    const now = new Date(ctx.now);
    const commandId = this.commandIdFor(transition);
    const inserted = await this.store.insert(manager, {
      id: sagaId,
      sagaType,
      progress: transition.next,
      now,
      traceparent: activeTraceparent(),
      awaitedCommandId: commandId,
    });
    if (!inserted) throw new SagaAlreadyStartedError(sagaId);
    // (A transition's history goes with its compare-and-set; a start has no row to compare.)
    await this.store.appendHistory(manager, sagaId, transition.history, now);
    const saga: SagaInstance = {
      id: sagaId,
      sagaType,
      currentStep: definition.steps[0].name,
      version: '0',
      awaitedCommandId: commandId,
      leaseOwner: null,
      leaseUntil: null,
      createdAt: now,
      updatedAt: now,
      ...transition.next,
    };
    await this.sendAndRecord(manager, definition, saga, transition, now, null);
    return saga as SagaInstance<D>;
  }

  /**
   * Applies a participant's reply. Call it inside the transaction in which the inbox records
   * the reply (`handleOnce`), so the inbox row, the saga's transition and its next command
   * commit together. Late, duplicate and reordered replies are normal and return why they
   * changed nothing; a reply that is not a reply at all, or that answers the awaited command
   * but comes from another participant than the one asked, throws (a poison message).
   */
  async handleReply(manager: EntityManager, envelope: Envelope): Promise<ReplyResult> {
    requireTransaction(manager, 'handleReply');
    const reply = parseReply(envelope);
    const sender = this.messages.participantOf(envelope.type);
    if (sender === undefined) throw new SagaReplyError(envelope, 'its type names no participant');
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const saga = await this.store.load(manager, envelope.correlationId);
      if (!saga) return 'UNKNOWN_SAGA';
      const definition = this.definition(saga.sagaType);
      if (saga.awaitedCommandId !== null && saga.awaitedCommandId === envelope.causationId) {
        this.requireAsked(envelope, sender, awaitedCommand(definition, saga));
      }
      const ctx = this.context();
      const transition = replyTransition(definition, saga, envelope.causationId, reply, ctx);
      if (typeof transition === 'string') return transition;
      if (await this.apply(manager, definition, saga, transition, ctx.now, envelope.id)) {
        return 'APPLIED';
      }
    }
    throw new Error(`Saga ${envelope.correlationId}: lost ${MAX_CAS_ROUNDS} races in a row`);
  }

  /**
   * One recovery pass: claims the sagas with something due (a reply deadline, a backoff's end,
   * the saga deadline — including sagas whose instance crashed) and drives each in its own
   * transaction. Returns how many moved.
   */
  async tick(dataSource: DataSource): Promise<number> {
    let moved = 0;
    for (const id of await this.claimDue(dataSource)) {
      try {
        if (await this.drive(dataSource, id)) moved++;
      } catch (error) {
        // The transaction rolled back; the lease runs out and the saga is tried again.
        this.logger.error({
          msg: `Saga ${id}: ${(error as Error).stack ?? String(error)}`,
          orderId: id,
        });
      }
    }
    return moved;
  }

  /** The first half of `tick`: lease due sagas to this instance. Public for recovery tests. */
  async claimDue(dataSource: DataSource): Promise<string[]> {
    const now = this.clock.now();
    return this.store.claimDue(dataSource.manager, {
      types: [...this.definitions.keys()],
      owner: this.owner,
      now: new Date(now),
      leaseUntil: new Date(now + this.leaseMs),
      limit: this.batchSize,
    });
  }

  /**
   * Applies whatever time has made due for one saga; false if nothing was (any more). This is
   * new work, not a reply to a message: it runs in a trace of its own, linked to the saga's.
   */
  async drive(dataSource: DataSource, id: string): Promise<boolean> {
    return withLinkedTrace('saga recover', { orderId: id }, (linkTo) =>
      dataSource.transaction(async (manager) => {
        for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
          const saga = await this.store.load(manager, id);
          if (!saga) return false;
          const definition = this.definition(saga.sagaType);
          const ctx = this.context();
          const transition = dueTransition(definition, saga, ctx);
          if (!transition) {
            await this.store.releaseLease(manager, id, this.owner);
            return false;
          }
          if (round === 0) linkTo(await this.store.traceparent(manager, id));
          if (await this.apply(manager, definition, saga, transition, ctx.now, null)) return true;
        }
        throw new Error(`Saga ${id}: lost ${MAX_CAS_ROUNDS} races in a row`);
      }),
    );
  }

  /**
   * The operator's way out of PARKED: resume the command that kept failing, with a fresh
   * attempt budget, in one transaction. Throws if the saga is not parked.
   */
  async retryParked(dataSource: DataSource, id: string): Promise<SagaInstance> {
    return dataSource.transaction(async (manager) => {
      const saga = await this.store.load(manager, id);
      if (!saga) throw new SagaNotFoundError(id);
      const definition = this.definition(saga.sagaType);
      const ctx = this.context();
      const transition = resumeTransition(definition, saga, ctx);
      if (!(await this.apply(manager, definition, saga, transition, ctx.now, null))) {
        throw new Error(`Saga ${id} changed while being resumed; retry`);
      }
      return (await this.store.load(manager, id))!;
    });
  }

  find(manager: EntityManager, id: string): Promise<SagaInstance | null> {
    return this.store.load(manager, id);
  }

  history(manager: EntityManager, id: string): Promise<SagaHistoryEntry[]> {
    return this.store.history(manager, id);
  }

  /** Parked sagas, oldest first: what an operator looks at. */
  listParked(manager: EntityManager, limit = 100): Promise<SagaInstance[]> {
    return this.store.listByStatus(manager, 'PARKED', limit);
  }

  countByStatus(manager: EntityManager): Promise<Record<SagaStatus, number>> {
    return this.store.countByStatus(manager);
  }

  /** A reply to the awaited command must come from the participant that command went to. */
  private requireAsked(envelope: Envelope, sender: string, awaited: SagaCommand | null): void {
    const asked = awaited ? this.messages.participantOf(awaited.type) : undefined;
    if (asked !== sender) {
      throw new SagaReplyError(
        envelope,
        `it answers a command to ${asked ?? 'no participant'} but comes from ${sender}`,
      );
    }
  }

  private definition(type: string): SagaDefinition<unknown> {
    const definition = this.definitions.get(type);
    if (!definition) throw new Error(`Unknown saga type ${type}`);
    return definition;
  }

  private context(): MachineContext {
    return { now: this.clock.now(), policy: this.policy, random: this.random };
  }

  /** Compare-and-set with its history, then the command and hook; false if the saga moved meanwhile. */
  private async apply(
    manager: EntityManager,
    definition: SagaDefinition<unknown>,
    saga: SagaInstance,
    transition: SagaTransition<unknown>,
    nowMs: number,
    causedBy: string | null,
  ): Promise<boolean> {
    const now = new Date(nowMs);
    const commandId = this.commandIdFor(transition);
    const version = await this.store.compareAndSet(
      manager,
      saga,
      transition.next,
      now,
      commandId,
      transition.history,
    );
    if (version === null) return false;
    const after: SagaInstance = {
      ...saga,
      ...transition.next,
      currentStep: definition.steps[transition.next.stepIndex].name,
      version,
      awaitedCommandId: commandId,
      leaseOwner: null,
      leaseUntil: null,
      updatedAt: now,
    };
    await this.sendAndRecord(manager, definition, after, transition, now, causedBy);
    return true;
  }

  /**
   * The id the transition's command will carry, taken before the saga row is written so the
   * insert or compare-and-set stores it as the awaited command: one statement fewer per step
   * than updating the row again after the enqueue.
   */
  private commandIdFor(transition: SagaTransition<unknown>): string | null {
    return transition.send ? this.outbox.nextId() : null;
  }

  private async sendAndRecord(
    manager: EntityManager,
    definition: SagaDefinition<unknown>,
    saga: SagaInstance,
    transition: SagaTransition<unknown>,
    now: Date,
    causedBy: string | null,
  ): Promise<void> {
    if (transition.send) {
      const { command } = transition.send;
      // The saga row already names this id as the awaited command (insert / compare-and-set).
      await this.outbox.enqueue(manager, {
        id: saga.awaitedCommandId ?? undefined,
        topic: command.topic,
        type: command.type,
        correlationId: saga.id,
        causationId: causedBy,
        payload: command.payload,
      });
    }
    // Fire and forget: nothing awaits their replies (a finished saga ignores them).
    for (const settlement of transition.settlements ?? []) {
      await this.outbox.enqueue(manager, {
        topic: settlement.topic,
        type: settlement.type,
        correlationId: saga.id,
        causationId: causedBy,
        payload: settlement.payload,
      });
    }
    observeSagaSteps(transition.history, now.getTime());
    const hooks = definition.hooks;
    if (transition.terminal === 'COMPLETED') await hooks.onCompleted?.(manager, saga);
    if (transition.terminal === 'COMPENSATED') {
      await hooks.onCompensated?.(manager, saga, saga.failureReason ?? 'FAILED');
    }
    if (transition.terminal === 'PARKED') {
      this.logger.warn({
        msg: `Saga ${saga.id} (${saga.sagaType}) PARKED: ${saga.parkedReason}`,
        orderId: saga.id,
      });
      await hooks.onParked?.(manager, saga);
    }
  }
}

/**
 * The saga row, its command and the caller's business change (or inbox row) are one unit; in
 * autocommit each statement would commit alone and a crash between them would split it.
 */
function requireTransaction(manager: EntityManager, method: string): void {
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error(`SagaOrchestrator.${method} must run inside the caller's transaction`);
  }
}

function parseReply(envelope: Envelope): SagaReplyPayload {
  const payload = envelope.payload as Partial<SagaReplyPayload> | null;
  if (typeof payload !== 'object' || payload === null) {
    throw new SagaReplyError(envelope, 'payload is not an object');
  }
  if (payload.outcome !== 'SUCCESS' && payload.outcome !== 'FAILURE') {
    throw new SagaReplyError(envelope, 'outcome must be SUCCESS or FAILURE');
  }
  if (payload.reason !== undefined && typeof payload.reason !== 'string') {
    throw new SagaReplyError(envelope, 'reason must be a string');
  }
  return payload as SagaReplyPayload;
}
