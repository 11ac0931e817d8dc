import type { FlowReply, HistoryLine, IgnoredReply } from '../../engine/index.js';
import type { TccOp } from '../../barrier/index.js';
import {
  DEFAULT_TCC_POLICY,
  type TccDefinition,
  type TccPolicy,
  type TccTransaction,
} from '../tcc-definition.js';
import {
  beginTransition,
  dueTransition,
  replyTransition,
  type MachineContext,
  type TccTransition,
} from '../tcc-machine.js';

/** A command the runner "sent", as a participant would receive it. */
export interface SentTccCommand {
  id: string;
  gid: string;
  branch: string;
  op: TccOp;
  topic: string;
  type: string;
  payload: object;
  sentAt: number;
}

/** What a fake participant does with a command: reply now, or never (lost, crashed, slow). */
export type FakeTccAnswer = FlowReply | 'NO_REPLY';

export type FakeTccParticipant = (command: SentTccCommand) => FakeTccAnswer;

export interface InMemoryTccRunnerOptions {
  policy?: Partial<TccPolicy>;
  random?: () => number;
  startAt?: number;
}

type Message =
  | { kind: 'command'; command: SentTccCommand }
  | { kind: 'reply'; causationId: string; payload: FlowReply };

/**
 * Runs a TCC definition through the real state machine with fake participants, a virtual
 * clock and no servers, as InMemorySagaRunner does for a saga: for unit tests of the machine
 * and of a service's TCC definition. The integration tests run the same machine on Postgres.
 */
export class InMemoryTccRunner<I> {
  now: number;
  readonly sent: SentTccCommand[] = [];
  private readonly transactions = new Map<string, TccTransaction<I>>();
  private readonly participants = new Map<string, FakeTccParticipant>();
  private readonly queue: Message[] = [];
  private readonly policy: TccPolicy;
  private readonly random: () => number;
  private nextId = 1_000n;

  constructor(
    private readonly definition: TccDefinition<I>,
    options: InMemoryTccRunnerOptions = {},
  ) {
    this.policy = { ...DEFAULT_TCC_POLICY, ...options.policy };
    this.random = options.random ?? (() => 0.5);
    this.now = options.startAt ?? Date.UTC(2026, 0, 1);
  }

  /** Answers every command of this type (commands without a participant get no reply). */
  participant(type: string, answer: FakeTccParticipant): this {
    this.participants.set(type, answer);
    return this;
  }

  begin(gid: string, input: I): TccTransaction<I> {
    const transition = beginTransition(this.definition, gid, input, this.context());
    const at = new Date(this.now);
    const tx: TccTransaction<I> = {
      gid,
      kind: this.definition.kind,
      input,
      ...transition.next,
      version: '0',
      leaseOwner: null,
      leaseUntil: null,
      createdAt: at,
      updatedAt: at,
    };
    this.transactions.set(gid, tx);
    this.send(tx, transition);
    return this.transaction(gid);
  }

  /** Delivers a reply to a command now, as the inbox transaction would. */
  reply(causationId: string, payload: FlowReply): 'APPLIED' | IgnoredReply {
    const command = this.sent.find((c) => c.id === causationId);
    const tx = this.transactions.get(command?.gid ?? '');
    if (!tx) throw new Error(`No transaction sent command ${causationId}`);
    const transition = replyTransition(this.definition, tx, causationId, payload, this.context());
    if (typeof transition === 'string') return transition;
    this.commit(tx, transition);
    return 'APPLIED';
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
        this.queue.push({ kind: 'reply', causationId: message.command.id, payload: answer });
      }
    }
  }

  /**
   * Delivers everything, then jumps the clock to the next deadline or re-send, and again, until
   * nothing can move without an outside event (every transaction CONFIRMED or CANCELLED).
   */
  run(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      this.deliver();
      const due = [...this.transactions.values()].flatMap((tx) => tx.nextAttemptAt ?? []);
      if (due.length === 0) return;
      this.now = Math.max(this.now, Math.min(...due));
      for (const tx of this.transactions.values()) {
        const transition = dueTransition(this.definition, tx, this.context());
        if (transition) this.commit(tx, transition);
      }
    }
    throw new Error(`TCC runner did not settle in ${maxRounds} rounds`);
  }

  transaction(gid: string): TccTransaction<I> {
    const tx = this.transactions.get(gid);
    if (!tx) throw new Error(`No transaction ${gid}`);
    return structuredClone(tx);
  }

  history(gid: string): HistoryLine[] {
    return this.transaction(gid).history;
  }

  /** The commands sent for one transaction, in order: `type` for short assertions. */
  commandTypes(gid: string): string[] {
    return this.sent.filter((c) => c.gid === gid).map((c) => c.type);
  }

  private context(): MachineContext {
    return { now: this.now, policy: this.policy, random: this.random };
  }

  /** The in-memory twin of the store's compare-and-set: one writer, so it only bumps. */
  private commit(tx: TccTransaction<I>, transition: TccTransition): void {
    Object.assign(tx, transition.next, {
      version: String(BigInt(tx.version) + 1n),
      updatedAt: new Date(this.now),
    });
    // The definition's hooks need a database: a runner's test reads the status instead.
    this.send(tx, transition);
  }

  private send(tx: TccTransaction<I>, transition: TccTransition): void {
    for (const { branch: index, op } of transition.send) {
      const branch = this.definition.branches[index];
      const state = tx.branches[index];
      const command: SentTccCommand = {
        id: String(this.nextId++),
        gid: tx.gid,
        branch: branch.name,
        op,
        topic: branch.topics[op],
        type: branch.types[op],
        payload: { ...state.payload, gid: tx.gid, branch: branch.name },
        sentAt: this.now,
      };
      state.awaitedCommandId = command.id;
      this.sent.push(command);
      this.queue.push({ kind: 'command', command });
    }
  }
}
