import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { Envelope, MessageCatalog } from '../kafka/index.js';
import { withLinkedTrace } from '../kafka/kafka-spans.js';
import { RecoveryLoop, type RecoveryLoopOptions } from '../recovery/index.js';
import { systemClock, type Clock } from '../snowflake/index.js';
import { observeFlowStep, type FlowProtocol } from './flow-steps.js';

// What every protocol shares: the reply a participant sends, and the history line a step leaves.

/**
 * What a participant answers, for every protocol (the reply envelope's payload). FAILURE is a
 * definitive business answer (`reason`: OUT_OF_STOCK); anything else in it is step data (the
 * unit prices) for the flow to keep.
 */
export interface FlowReply {
  outcome: 'SUCCESS' | 'FAILURE';
  reason?: string;
  [field: string]: unknown;
}

/** Why a reply changed nothing: late and duplicate replies are normal, so a result, not an error. */
export type IgnoredReply = 'NOT_AWAITED' | 'FINISHED';

export type ReplyResult = 'APPLIED' | 'UNKNOWN_FLOW' | IgnoredReply;

/** A reply that can never apply (not a reply, or from the wrong participant): a poison message. */
export class FlowReplyError extends Error {
  constructor(envelope: Envelope, problem: string) {
    super(`Reply ${envelope.id} (${envelope.type}) to flow ${envelope.correlationId}: ${problem}`);
    this.name = 'FlowReplyError';
  }
}

export function parseReply(envelope: Envelope): FlowReply {
  const payload = envelope.payload as Partial<FlowReply> | null;
  if (typeof payload !== 'object' || payload === null) {
    throw new FlowReplyError(envelope, 'payload is not an object');
  }
  if (payload.outcome !== 'SUCCESS' && payload.outcome !== 'FAILURE') {
    throw new FlowReplyError(envelope, 'outcome must be SUCCESS or FAILURE');
  }
  if (payload.reason !== undefined && typeof payload.reason !== 'string') {
    throw new FlowReplyError(envelope, 'reason must be a string');
  }
  return payload as FlowReply;
}

/**
 * The outcome of a step's command (SUCCESS, FAILURE, TIMEOUT), or of the flow itself: PARKED for
 * an operator, RESUMED by one. A compensation that succeeded is a SUCCESS of
 * `<step>.compensation`: one vocabulary for every protocol and for the order API.
 */
export type StepOutcome = 'SUCCESS' | 'FAILURE' | 'TIMEOUT' | 'PARKED' | 'RESUMED';

/** The reason a flow fails when a command got no definitive answer in time, whatever the protocol. */
export const TIMEOUT_REASON = 'TIMEOUT';

/** One line of a flow's history, as the order API shows it: `inventory.try SUCCESS at …`. */
export interface HistoryLine {
  /**
   * A saga step (`reserveStock`, `reserveStock.compensation`), a TCC branch op (`inventory.try`)
   * or a 2PC participant op (`inventory.prepare`).
   */
  step: string;
  outcome: StepOutcome;
  reason: string | null;
  /** ISO 8601. */
  at: string;
}

/** A line as a transition records it, before it is stamped; `commandId` is what it answers. */
export interface StepRecord {
  step: string;
  outcome: StepOutcome;
  reason: string | null;
  commandId: string | null;
}

/** The latency of each command a transition recorded the outcome of (not PARKED / RESUMED). */
export function observeSteps(flow: FlowProtocol, records: StepRecord[], nowMs: number): void {
  for (const { step, outcome, commandId } of records) {
    if (outcome === 'PARKED' || outcome === 'RESUMED') continue;
    observeFlowStep(flow, step, outcome, commandId, nowMs);
  }
}

// The engine.

/** What every engine takes besides its protocol's policy; one set of defaults for all. */
export interface EngineOptions {
  /**
   * The contracts of the commands the flows send and the replies they take: which participant
   * each goes to or comes from. A reply is applied only if its sender is the participant of
   * the command it answers.
   */
  messages: Pick<MessageCatalog, 'participantOf'>;
  /** This instance's name on the leases it takes. Default: host, pid and a random suffix. */
  owner?: string;
  /** How long a claim by `tick` keeps other instances off a flow. Default 10 s. */
  leaseMs?: number;
  /** Flows claimed per `tick`. Default 20. */
  batchSize?: number;
  clock?: Clock;
  random?: () => number;
}

/** A protocol's policy: its defaults, each replaced by the option of that name when given. */
export function policyOf<P extends object>(defaults: P, options: Partial<P>): P {
  const policy = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof P)[]) {
    if (options[key] !== undefined) policy[key] = options[key] as P[keyof P];
  }
  return policy;
}

/** The rows a protocol keeps, as far as the engine needs them: read one, lease due ones. */
export interface FlowStore<F> {
  load(manager: EntityManager, id: string): Promise<F | null>;
  /** Leases up to `limit` flows with something due and no live lease (SKIP LOCKED). */
  claimDue(
    manager: EntityManager,
    claim: { owner: string; now: Date; leaseUntil: Date; limit: number },
  ): Promise<string[]>;
  /** Gives a claim back when the flow turned out to have nothing due (a reply won the race). */
  releaseLease(manager: EntityManager, id: string, owner: string): Promise<void>;
  /** The traceparent the flow began in, if it began inside a trace. */
  traceparent(manager: EntityManager, id: string): Promise<string | null>;
}

// A compare-and-set that loses re-reads and decides again; losing this many times in a row
// means something is badly wrong (a hot loop), not ordinary contention.
const MAX_CAS_ROUNDS = 5;

/**
 * The skeleton every coordinator shares (as dtm's TransBase under saga, TCC and XA): reply
 * parsing and the sender check, the compare-and-set rounds, claiming due work and driving it,
 * and the recovery loop. A protocol adds its pure state machine (`onReply`, `onDue`) and
 * `commit`: one compare-and-set that writes the new state with its history, then the commands
 * through the transactional outbox, all in the caller's local transaction. Nothing that
 * matters lives in memory or in a timer: deadlines are columns, and `tick` on any instance
 * drives what is due, a crashed instance's flows included.
 */
export abstract class FlowEngine<F, T extends object> {
  protected readonly owner: string;
  protected readonly clock: Clock;
  protected readonly random: () => number;
  protected readonly logger: Logger;
  private readonly name: string;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly messages: Pick<MessageCatalog, 'participantOf'>;

  protected constructor(
    /** Names the flows in spans, metrics and logs. */
    protected readonly protocol: FlowProtocol,
    private readonly flows: FlowStore<F>,
    options: EngineOptions,
  ) {
    this.messages = options.messages;
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.batchSize = options.batchSize ?? 20;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.name = new.target.name;
    this.logger = new Logger(this.name);
  }

  /** The type of the awaited command `causationId` answers; null if it answers none awaited. */
  protected abstract awaitedType(flow: F, causationId: string | null): string | null;
  /** The state machine on a reply (pure). */
  protected abstract onReply(
    flow: F,
    causationId: string | null,
    reply: FlowReply,
    now: number,
  ): T | IgnoredReply;
  /** The state machine on time alone (pure); null when nothing is due. */
  protected abstract onDue(flow: F, now: number): T | null;
  /** The compare-and-set, its history, commands and hooks; false if the flow moved meanwhile. */
  protected abstract commit(
    manager: EntityManager,
    flow: F,
    transition: T,
    now: number,
    causedBy: string | null,
  ): Promise<boolean>;

  /**
   * Applies a participant's reply. Call it inside the transaction in which the inbox records
   * the reply (`handleOnce`), so the inbox row, the transition and the next commands commit
   * together. Late, duplicate and reordered replies are normal and say why they changed
   * nothing; a payload that is not a reply, or a reply to the awaited command from another
   * participant than the one asked, throws FlowReplyError (a poison message).
   */
  async handleReply(manager: EntityManager, envelope: Envelope): Promise<ReplyResult> {
    this.requireTransaction(manager, 'handleReply');
    const reply = parseReply(envelope);
    const sender = this.messages.participantOf(envelope.type);
    if (sender === undefined) throw new FlowReplyError(envelope, 'its type names no participant');
    return this.casRounds(envelope.correlationId, async () => {
      const flow = await this.flows.load(manager, envelope.correlationId);
      if (!flow) return 'UNKNOWN_FLOW';
      const awaited = this.awaitedType(flow, envelope.causationId);
      if (awaited !== null) this.requireAsked(envelope, sender, awaited);
      const now = this.clock.now();
      const transition = this.onReply(flow, envelope.causationId, reply, now);
      if (typeof transition === 'string') return transition;
      return (await this.commit(manager, flow, transition, now, envelope.id)) ? 'APPLIED' : null;
    });
  }

  /**
   * One recovery pass: claims the flows with something due (a reply deadline, a re-send, the
   * flow's deadline, a crashed instance's work) and drives each in its own transaction.
   * Returns how many moved.
   */
  async tick(dataSource: DataSource): Promise<number> {
    let moved = 0;
    for (const id of await this.claimDue(dataSource)) {
      try {
        if (await this.drive(dataSource, id)) moved++;
      } catch (error) {
        // Rolled back; the lease runs out and this or another instance tries again.
        this.logger.error({
          msg: `${this.protocol} ${id}: ${(error as Error).stack ?? String(error)}`,
          orderId: id,
        });
      }
    }
    return moved;
  }

  /** The first half of `tick`: lease due flows to this instance. Public for recovery tests. */
  async claimDue(dataSource: DataSource): Promise<string[]> {
    const now = this.clock.now();
    return this.flows.claimDue(dataSource.manager, {
      owner: this.owner,
      now: new Date(now),
      leaseUntil: new Date(now + this.leaseMs),
      limit: this.batchSize,
    });
  }

  /**
   * Applies whatever time has made due for one flow; false if nothing was (any more). This is
   * new work, not a reply to a message: it runs in a trace of its own, linked to the flow's.
   */
  async drive(dataSource: DataSource, id: string): Promise<boolean> {
    return withLinkedTrace(`${this.protocol} recover`, { orderId: id }, (linkTo) =>
      dataSource.transaction((manager) =>
        this.casRounds(id, async (round) => {
          const flow = await this.flows.load(manager, id);
          if (!flow) return false;
          const now = this.clock.now();
          const transition = this.onDue(flow, now);
          if (!transition) {
            await this.flows.releaseLease(manager, id, this.owner);
            return false;
          }
          if (round === 0) linkTo(await this.flows.traceparent(manager, id));
          return (await this.commit(manager, flow, transition, now, null)) ? true : null;
        }),
      ),
    );
  }

  /**
   * The loop that calls `tick` on one DataSource (one order shard) from start until stop: run
   * one per shard on every instance; several per shard are safe (SKIP LOCKED, leases and the
   * compare-and-set).
   */
  recovery(dataSource: DataSource, options: RecoveryLoopOptions = {}): RecoveryLoop {
    return new RecoveryLoop(`${this.name}Recovery`, () => this.tick(dataSource), options);
  }

  /**
   * A flow's row, its commands and the caller's business change (or inbox row) are one unit;
   * in autocommit each statement would commit alone and a crash between them would split it.
   */
  protected requireTransaction(manager: EntityManager, method: string): void {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error(`${this.name}.${method} must run inside the caller's transaction`);
    }
  }

  /** Runs `round` until it decides (a non-null result); null means it lost a race: read again. */
  private async casRounds<R>(id: string, round: (n: number) => Promise<R | null>): Promise<R> {
    for (let n = 0; n < MAX_CAS_ROUNDS; n++) {
      const result = await round(n);
      if (result !== null) return result;
    }
    throw new Error(`${this.protocol} ${id}: lost ${MAX_CAS_ROUNDS} races in a row`);
  }

  /** A reply to the awaited command must come from the participant that command went to. */
  private requireAsked(envelope: Envelope, sender: string, awaitedType: string): void {
    const asked = this.messages.participantOf(awaitedType);
    if (asked !== sender) {
      throw new FlowReplyError(
        envelope,
        `it answers a command to ${asked ?? 'no participant'} but comes from ${sender}`,
      );
    }
  }
}
