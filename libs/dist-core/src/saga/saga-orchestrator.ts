import type { DataSource, EntityManager } from 'typeorm';
import {
  FlowEngine,
  type EngineOptions,
  type FlowReply,
  type HistoryLine,
  type IgnoredReply,
} from '../engine/index.js';
import { observeSteps, policyOf } from '../engine/flow-engine.js';
import { activeTraceparent } from '../observability/index.js';
import type { Outbox } from '../outbox/index.js';
import {
  DEFAULT_SAGA_POLICY,
  type SagaCommand,
  type SagaDefinition,
  type SagaInstance,
  type SagaPolicy,
} from './saga-definition.js';
import {
  awaitedCommand,
  dueTransition,
  replyTransition,
  resumeTransition,
  startTransition,
  SagaStateError,
  type MachineContext,
  type SagaTransition,
} from './saga-machine.js';
import { SagaStore } from './saga-store.js';

export type SagaOrchestratorOptions = EngineOptions & Partial<SagaPolicy>;

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

type Saga = SagaInstance<unknown>;
type Transition = SagaTransition<unknown>;

/**
 * Drives sagas stored in Postgres on the engine's skeleton. Every transition is: read the saga,
 * let the pure state machine decide, then one compare-and-set on (id, status, step, version)
 * that writes the new state, the command it sends (through the transactional outbox) and the
 * history — all in one local transaction.
 */
export class SagaOrchestrator extends FlowEngine<Saga, Transition> {
  private readonly definitions: Map<string, SagaDefinition<unknown>>;
  private readonly store: SagaStore;
  private readonly policy: SagaPolicy;

  constructor(
    // `any`: sagas over different data types (a definition is invariant in its data type).
    definitions: SagaDefinition<any>[], // eslint-disable-line @typescript-eslint/no-explicit-any
    private readonly outbox: Pick<Outbox, 'enqueue' | 'nextId'>,
    options: SagaOrchestratorOptions,
  ) {
    const byType = new Map(definitions.map((d) => [d.type, d as SagaDefinition<unknown>]));
    const store = new SagaStore(byType);
    super('saga', store, options);
    for (const d of definitions) {
      if (d.steps.length === 0) throw new Error(`Saga ${d.type} has no steps`);
    }
    this.definitions = byType;
    this.store = store;
    this.policy = policyOf(DEFAULT_SAGA_POLICY, options);
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
    this.requireTransaction(manager, 'start');
    const definition = this.definition(sagaType);
    const ctx = this.context(this.clock.now());
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
    const saga: Saga = {
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
    await this.sendAndRecord(manager, saga, transition, now, null);
    return saga as SagaInstance<D>;
  }

  /**
   * The operator's way out of PARKED: resume the command that kept failing, with a fresh
   * attempt budget, in one transaction. Throws if the saga is not parked.
   */
  async retryParked(dataSource: DataSource, id: string): Promise<SagaInstance> {
    return dataSource.transaction(async (manager) => {
      const saga = await this.store.load(manager, id);
      if (!saga) throw new SagaNotFoundError(id);
      const now = this.clock.now();
      const transition = resumeTransition(this.definition(saga.sagaType), saga, this.context(now));
      if (!(await this.commit(manager, saga, transition, now, null))) {
        // Someone else moved it between our read and our write (another retry, a reply): the
        // caller sees a conflict (409), not an error, and may look again.
        throw new SagaStateError(`Saga ${id} changed while being resumed; retry`);
      }
      return (await this.store.load(manager, id))!;
    });
  }

  find(manager: EntityManager, id: string): Promise<SagaInstance | null> {
    return this.store.load(manager, id);
  }

  history(manager: EntityManager, id: string): Promise<HistoryLine[]> {
    return this.store.history(manager, id);
  }

  /** Parked sagas, oldest first: what an operator looks at. */
  listParked(manager: EntityManager, limit = 100): Promise<SagaInstance[]> {
    return this.store.listByStatus(manager, 'PARKED', limit);
  }

  protected awaitedType(saga: Saga, causationId: string | null): string | null {
    if (saga.awaitedCommandId === null || saga.awaitedCommandId !== causationId) return null;
    // '' names no participant: a reply to a command the saga cannot rebuild is refused.
    return awaitedCommand(this.definition(saga.sagaType), saga)?.type ?? '';
  }

  protected onReply(
    saga: Saga,
    causationId: string | null,
    reply: FlowReply,
    now: number,
  ): Transition | IgnoredReply {
    const definition = this.definition(saga.sagaType);
    return replyTransition(definition, saga, causationId, reply, this.context(now));
  }

  protected onDue(saga: Saga, now: number): Transition | null {
    return dueTransition(this.definition(saga.sagaType), saga, this.context(now));
  }

  /** Compare-and-set with its history, then the command and hook; false if the saga moved meanwhile. */
  protected async commit(
    manager: EntityManager,
    saga: Saga,
    transition: Transition,
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
    const after: Saga = {
      ...saga,
      ...transition.next,
      currentStep: this.definition(saga.sagaType).steps[transition.next.stepIndex].name,
      version,
      awaitedCommandId: commandId,
      leaseOwner: null,
      leaseUntil: null,
      updatedAt: now,
    };
    await this.sendAndRecord(manager, after, transition, now, causedBy);
    return true;
  }

  private definition(type: string): SagaDefinition<unknown> {
    const definition = this.definitions.get(type);
    if (!definition) throw new Error(`Unknown saga type ${type}`);
    return definition;
  }

  private context(now: number): MachineContext {
    return { now, policy: this.policy, random: this.random };
  }

  /**
   * The id the transition's command will carry, taken before the saga row is written so the
   * insert or compare-and-set stores it as the awaited command: one statement fewer per step
   * than updating the row again after the enqueue.
   */
  private commandIdFor(transition: Transition): string | null {
    return transition.send ? this.outbox.nextId() : null;
  }

  private envelope(saga: Saga, command: SagaCommand, causedBy: string | null, id?: string) {
    const { topic, type, payload } = command;
    return { id, topic, type, payload, correlationId: saga.id, causationId: causedBy };
  }

  private async sendAndRecord(
    manager: EntityManager,
    saga: Saga,
    transition: Transition,
    now: Date,
    causedBy: string | null,
  ): Promise<void> {
    if (transition.send) {
      // The saga row already names this id as the awaited command (insert / compare-and-set).
      const id = saga.awaitedCommandId ?? undefined;
      await this.outbox.enqueue(
        manager,
        this.envelope(saga, transition.send.command, causedBy, id),
      );
    }
    // Fire and forget: nothing awaits their replies (a finished saga ignores them).
    for (const settlement of transition.settlements ?? []) {
      await this.outbox.enqueue(manager, this.envelope(saga, settlement, causedBy));
    }
    observeSteps(
      'saga',
      transition.history.map((line) => ({
        ...line,
        step: line.kind === 'compensation' ? `${line.step}.compensation` : line.step,
      })),
      now.getTime(),
    );
    const hooks = this.definition(saga.sagaType).hooks;
    if (transition.terminal === 'COMPLETED') await hooks.onCompleted?.(manager, saga);
    if (transition.terminal === 'COMPENSATED') {
      await hooks.onCompensated?.(manager, saga, saga.failureReason ?? 'FAILED');
    }
    if (transition.terminal === 'PARKED') {
      this.logger.warn({
        msg: `Saga ${saga.id} (${saga.sagaType}) PARKED: ${saga.parkedReason}`,
        orderId: saga.id,
      });
    }
  }
}
