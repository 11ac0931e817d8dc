import type { FactoryProvider, InjectionToken } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { inTransaction } from '../batch/index.js';
import { countDuplicate, DuplicateMessage, type InboxEntry } from '../inbox/index.js';
import type { Envelope } from '../kafka/index.js';
import { Outbox, type IdGenerator } from '../outbox/index.js';
import {
  phaseTwoReplyPayload,
  TccBarrier,
  type ConfirmOutcome,
  tryReplyPayload,
  type TryResult,
} from './tcc-barrier.js';

/** Where a participant's answer goes: the reply type's route from the message contracts. */
export interface ReplyRoute {
  topic: string;
  type: string;
}

/**
 * The participant side of both flows, in one place: a command arrives, and in ONE local
 * transaction the inbox records it, the barrier decides whether its operation may run (both in
 * the barrier's first statement), the business change runs, and the reply is written to the
 * outbox.
 *
 * A saga's action, compensation and final confirmation are the barrier's try, cancel and
 * confirm, exactly as TCC's are (dtm uses its barrier for both): the barrier gives a saga
 * participant what it must guarantee — idempotency by (order, participant) rather than by
 * message id, null compensation, and refusing an action that arrives after its compensation.
 */
export class BarrierParticipant {
  // `answer` runs each operation in a transaction of its own that an error rolls back whole,
  // so the barrier's protective savepoint would only cost round trips.
  private readonly barrier = new TccBarrier({ callerRollsBackOnError: true });

  constructor(
    private readonly dataSource: DataSource,
    /** The inbox's consumer name, e.g. `inventory`. */
    private readonly consumer: string,
    /** The barrier's branch name: this participant's part of each order. */
    private readonly branch: string,
    private readonly outbox: Outbox,
  ) {}

  try(command: Envelope, reply: ReplyRoute, body: (manager: EntityManager) => Promise<TryResult>) {
    return this.answer(command, reply, async (manager) =>
      tryReplyPayload(
        await this.barrier.try(manager, this.key(command), body, this.inboxEntry(command)),
      ),
    );
  }

  confirm(command: Envelope, reply: ReplyRoute, body: (manager: EntityManager) => Promise<void>) {
    return this.answer(command, reply, async (manager) =>
      phaseTwoReplyPayload(
        await this.barrier.confirm(manager, this.key(command), body, this.inboxEntry(command)),
      ),
    );
  }

  /**
   * A confirm that nobody awaits (the saga's settlement, sent once the saga completed): the
   * barrier's confirm with no reply, one message and one outbox row fewer per order. What the
   * settlement is for stays: once it committed, a later compensation of the branch is refused.
   * A refused settlement (the branch was cancelled first) is returned for the caller to log.
   */
  settle(
    command: Envelope,
    body: (manager: EntityManager) => Promise<void>,
  ): Promise<ConfirmOutcome | 'duplicate-message'> {
    return this.inTransaction(command, (manager) =>
      this.barrier.confirm(manager, this.key(command), body, this.inboxEntry(command)),
    );
  }

  cancel(command: Envelope, reply: ReplyRoute, body: (manager: EntityManager) => Promise<void>) {
    return this.answer(command, reply, async (manager) =>
      phaseTwoReplyPayload(
        await this.barrier.cancel(manager, this.key(command), body, this.inboxEntry(command)),
      ),
    );
  }

  private key(command: Envelope) {
    return { gid: command.correlationId, branch: this.branch };
  }

  private inboxEntry(command: Envelope): InboxEntry {
    return { consumer: this.consumer, messageId: command.id };
  }

  private async answer(
    command: Envelope,
    reply: ReplyRoute,
    decide: (manager: EntityManager) => Promise<object>,
  ): Promise<'handled' | 'duplicate'> {
    const result = await this.inTransaction(command, async (manager) => {
      const payload = await decide(manager);
      await this.outbox.enqueue(manager, {
        ...reply,
        correlationId: command.correlationId,
        causationId: command.id,
        payload,
      });
      return 'handled' as const;
    });
    return result === 'duplicate-message' ? 'duplicate' : result;
  }

  /**
   * `work` in one transaction with the command's inbox row, as `handleOnce` runs a handler, but
   * with the row recorded by the barrier's first statement (its `inbox` argument): one statement
   * fewer per command. A message already taken changes nothing and runs nothing more.
   * Inside a batch of messages (batch/), the transaction is a savepoint of the batch's.
   */
  private async inTransaction<T>(
    command: Envelope,
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<T | 'duplicate-message'> {
    try {
      return await inTransaction(this.dataSource, work);
    } catch (error) {
      if (!(error instanceof DuplicateMessage)) throw error;
      countDuplicate(error.entry);
      return 'duplicate-message';
    }
  }
}

/**
 * The Nest provider of a participant service's BarrierParticipant:
 * `barrierParticipantProvider('payment', PostgresDatabases, ServiceIds)` answers on the
 * service's database of that name, as inbox consumer and barrier branch of that name, writing
 * replies through an outbox of the service's ids. (The tokens are parameters so this folder
 * does not depend on bootstrap/.)
 */
export function barrierParticipantProvider(
  participant: string,
  databases: InjectionToken<{ get(name: string): DataSource }>,
  ids: InjectionToken<IdGenerator>,
): FactoryProvider<BarrierParticipant> {
  return {
    provide: BarrierParticipant,
    inject: [databases, ids],
    useFactory: (list: { get(name: string): DataSource }, idGenerator: IdGenerator) =>
      new BarrierParticipant(
        list.get(participant),
        participant,
        participant,
        new Outbox(idGenerator),
      ),
  };
}
