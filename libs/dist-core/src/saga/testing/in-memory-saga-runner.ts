import type { FlowReply, HistoryLine, IgnoredReply } from '../../engine/index.js';
import {
  DEFAULT_SAGA_POLICY,
  type SagaCommandKind,
  type SagaDefinition,
  type SagaHistoryEntry,
  type SagaInstance,
  type SagaPolicy,
} from '../saga-definition.js';
import {
  dueAt,
  dueTransition,
  replyTransition,
  resumeTransition,
  startTransition,
  type MachineContext,
  type SagaTransition,
} from '../saga-machine.js';

/** A command the runner "sent", as a participant would receive it. */
export interface SentCommand {
  id: string;
  sagaId: string;
  step: string;
  /** `settlement`: sent when the saga completed, with no reply awaited. */
  kind: SagaCommandKind | 'settlement';
  topic: string;
  type: string;
  payload: object;
  sentAt: number;
}

/** What a fake participant does with a command: reply now, or never (lost, crashed, slow). */
export type FakeAnswer = FlowReply | 'NO_REPLY';

export type FakeParticipant = (command: SentCommand) => FakeAnswer;

export interface InMemorySagaRunnerOptions {
  policy?: Partial<SagaPolicy>;
  random?: () => number;
  startAt?: number;
}

type Message =
  | { kind: 'command'; command: SentCommand }
  | { kind: 'reply'; causationId: string; sagaId: string; payload: FlowReply };

/**
 * Runs a saga definition through the real state machine with fake participants, a virtual
 * clock and no servers: for unit tests of the machine and of a service's saga definition.
 * It does not replace the integration tests, which run the same machine on Postgres.
 */
export class InMemorySagaRunner<D> {
  now: number;
  readonly sent: SentCommand[] = [];
  readonly terminals: { sagaId: string; outcome: string; reason: string | null }[] = [];
  private readonly sagas = new Map<string, SagaInstance<D>>();
  private readonly histories = new Map<string, SagaHistoryEntry[]>();
  private readonly participants = new Map<string, FakeParticipant>();
  private readonly queue: Message[] = [];
  private readonly policy: SagaPolicy;
  private readonly random: () => number;
  private nextId = 1_000n;

  constructor(
    private readonly definition: SagaDefinition<D>,
    options: InMemorySagaRunnerOptions = {},
  ) {
    this.policy = { ...DEFAULT_SAGA_POLICY, ...options.policy };
    this.random = options.random ?? (() => 0.5);
    this.now = options.startAt ?? Date.UTC(2026, 0, 1);
  }

  /** Answers every command of this type (commands without a participant get no reply). */
  participant(type: string, answer: FakeParticipant): this {
    this.participants.set(type, answer);
    return this;
  }

  start(id: string, data: D): SagaInstance<D> {
    const transition = startTransition(this.definition, data, this.context());
    const saga: SagaInstance<D> = {
      id,
      sagaType: this.definition.type,
      currentStep: '',
      version: '0',
      awaitedCommandId: null,
      leaseOwner: null,
      leaseUntil: null,
      createdAt: new Date(this.now),
      updatedAt: new Date(this.now),
      ...transition.next,
    };
    this.sagas.set(id, saga);
    this.histories.set(id, []);
    this.commit(saga, transition, -1n);
    return this.instance(id);
  }

  /** Delivers a reply to a command now, as the inbox transaction would. */
  reply(causationId: string, payload: FlowReply): 'APPLIED' | IgnoredReply {
    const command = this.sent.find((c) => c.id === causationId);
    const saga = this.sagas.get(command?.sagaId ?? '');
    if (!saga) throw new Error(`No saga sent command ${causationId}`);
    const transition = replyTransition(this.definition, saga, causationId, payload, this.context());
    if (typeof transition === 'string') return transition;
    this.commit(saga, transition, BigInt(saga.version));
    return 'APPLIED';
  }

  retryParked(id: string): SagaInstance<D> {
    const saga = this.sagas.get(id)!;
    this.commit(
      saga,
      resumeTransition(this.definition, saga, this.context()),
      BigInt(saga.version),
    );
    return this.instance(id);
  }

  /** Moves the clock forward and applies whatever became due, as the poller would. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const next = this.nextDue();
      if (next === null || next > until) break;
      this.now = Math.max(this.now, next);
      this.fireDue();
    }
    this.now = until;
  }

  /** Delivers queued commands and replies (and those they cause) without moving the clock. */
  deliver(): void {
    for (let message = this.queue.shift(); message; message = this.queue.shift()) {
      if (message.kind === 'reply') {
        this.reply(message.causationId, message.payload);
        continue;
      }
      const answer = this.participants.get(message.command.type)?.(message.command);
      if (answer && answer !== 'NO_REPLY') {
        this.queue.push({
          kind: 'reply',
          causationId: message.command.id,
          sagaId: message.command.sagaId,
          payload: answer,
        });
      }
    }
  }

  /**
   * Delivers everything, then jumps the clock to the next deadline or retry, and again, until
   * nothing can move without an outside event (every saga ended or parked).
   */
  run(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      this.deliver();
      const next = this.nextDue();
      if (next === null) return;
      this.now = Math.max(this.now, next);
      this.fireDue();
    }
    throw new Error(`Saga runner did not settle in ${maxRounds} rounds`);
  }

  instance(id: string): SagaInstance<D> {
    const saga = this.sagas.get(id);
    if (!saga) throw new Error(`No saga ${id}`);
    return { ...saga };
  }

  /** The saga's history in the engine's format, as the orchestrator's `history` reads it. */
  history(id: string): HistoryLine[] {
    return (this.histories.get(id) ?? []).map((line) => ({
      step: line.kind === 'compensation' ? `${line.step}.compensation` : line.step,
      outcome: line.outcome,
      reason: line.reason,
      at: line.at.toISOString(),
    }));
  }

  /** The commands sent for one saga, in order: `type` for short assertions. */
  commandTypes(sagaId: string): string[] {
    return this.sent.filter((c) => c.sagaId === sagaId).map((c) => c.type);
  }

  private context(): MachineContext {
    return { now: this.now, policy: this.policy, random: this.random };
  }

  private nextDue(): number | null {
    const times = [...this.sagas.values()].map(dueAt).filter((t): t is number => t !== null);
    return times.length === 0 ? null : Math.min(...times);
  }

  private fireDue(): void {
    for (const saga of this.sagas.values()) {
      const transition = dueTransition(this.definition, saga, this.context());
      if (transition) this.commit(saga, transition, BigInt(saga.version));
    }
  }

  /** The in-memory twin of the store's compare-and-set: one writer, so it checks and bumps. */
  private commit(saga: SagaInstance<D>, transition: SagaTransition<D>, expected: bigint): void {
    if (expected >= 0n && BigInt(saga.version) !== expected) throw new Error('version moved');
    Object.assign(saga, transition.next, {
      version: String(BigInt(saga.version) + (expected >= 0n ? 1n : 0n)),
      currentStep: this.definition.steps[transition.next.stepIndex].name,
      awaitedCommandId: null,
      updatedAt: new Date(this.now),
    });
    if (transition.send) {
      const command: SentCommand = {
        id: String(this.nextId++),
        sagaId: saga.id,
        step: transition.send.step,
        kind: transition.send.kind,
        ...transition.send.command,
        sentAt: this.now,
      };
      this.sent.push(command);
      this.queue.push({ kind: 'command', command });
      saga.awaitedCommandId = command.id;
    }
    for (const settlement of transition.settlements ?? []) {
      const command: SentCommand = {
        id: String(this.nextId++),
        sagaId: saga.id,
        step: saga.currentStep,
        kind: 'settlement',
        ...settlement,
        sentAt: this.now,
      };
      this.sent.push(command);
      this.queue.push({ kind: 'command', command });
    }
    const history = this.histories.get(saga.id)!;
    for (const entry of transition.history) history.push({ ...entry, at: new Date(this.now) });
    if (transition.terminal) {
      this.terminals.push({
        sagaId: saga.id,
        outcome: transition.terminal,
        reason: transition.terminal === 'PARKED' ? saga.parkedReason : saga.failureReason,
      });
    }
  }
}
