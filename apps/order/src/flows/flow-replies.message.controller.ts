import { Controller, Logger } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import type { EntityManager } from 'typeorm';
import {
  orderFlowMessages,
  REASONS_BY_PARTICIPANT,
  type ParticipantReply,
} from '@app/order-flow-api';
import { REFUSED_REASON } from '@app/dist-core/barrier';
import { FlowReplyError } from '@app/dist-core/engine';
import { handleOnce } from '@app/dist-core/inbox';
import { InvalidMessageError, OnMessage, type Envelope } from '@app/dist-core/kafka';
import { PricingError } from '../orders/order.js';
import { OrderShards } from '../orders/order.store.js';
import { OrderFlows } from './order-flows.js';

/** The inbox's consumer name for the replies the order service takes. */
const CONSUMER = 'order';

/**
 * Participants' replies, handed to the engine that sent the command. Each participant writes its
 * own reply topic (inventory.replies, payment.replies), and the engines apply a reply only if it
 * comes from the participant whose command it answers. Each runs on the shard of the order (the
 * envelope's correlation id) inside `handleOnce`: the inbox row, the flow's transition, its next
 * command and the order's terminal status commit in one transaction, so a redelivered reply
 * changes nothing. Late and stale replies are normal and only logged; a reply that is not a
 * valid answer is dead-lettered and changes nothing.
 */
@Controller()
export class FlowRepliesMessageController {
  private readonly logger = new Logger(FlowRepliesMessageController.name);

  constructor(
    private readonly shards: OrderShards,
    private readonly flows: OrderFlows,
  ) {}

  @OnMessage(orderFlowMessages, 'inventory.saga.reply', { batchable: true })
  inventorySagaReply(@Payload() envelope: Envelope<ParticipantReply>): Promise<void> {
    return this.apply(envelope, (manager) => this.flows.saga.handleReply(manager, envelope));
  }

  @OnMessage(orderFlowMessages, 'payment.saga.reply', { batchable: true })
  paymentSagaReply(@Payload() envelope: Envelope<ParticipantReply>): Promise<void> {
    return this.apply(envelope, (manager) => this.flows.saga.handleReply(manager, envelope));
  }

  @OnMessage(orderFlowMessages, 'inventory.tcc.reply', { batchable: true })
  inventoryTccReply(@Payload() envelope: Envelope<ParticipantReply>): Promise<void> {
    return this.apply(envelope, (manager) => this.flows.tcc.handleReply(manager, envelope));
  }

  @OnMessage(orderFlowMessages, 'payment.tcc.reply', { batchable: true })
  paymentTccReply(@Payload() envelope: Envelope<ParticipantReply>): Promise<void> {
    return this.apply(envelope, (manager) => this.flows.tcc.handleReply(manager, envelope));
  }

  @OnMessage(orderFlowMessages, 'inventory.2pc.reply', { batchable: true })
  inventoryTwoPcReply(@Payload() envelope: Envelope<ParticipantReply>): Promise<void> {
    return this.apply(envelope, (manager) => this.flows.twoPc.handleReply(manager, envelope));
  }

  @OnMessage(orderFlowMessages, 'payment.2pc.reply', { batchable: true })
  paymentTwoPcReply(@Payload() envelope: Envelope<ParticipantReply>): Promise<void> {
    return this.apply(envelope, (manager) => this.flows.twoPc.handleReply(manager, envelope));
  }

  private async apply(
    envelope: Envelope,
    handle: (manager: EntityManager) => Promise<string>,
  ): Promise<void> {
    checkParticipantReply(envelope);
    const { dataSource } = await this.shards.holdingOrder(envelope.correlationId);
    let result = 'DUPLICATE';
    try {
      await handleOnce(dataSource, CONSUMER, envelope, async (manager) => {
        result = await handle(manager);
      });
    } catch (error) {
      // A reply that can never apply goes to the dead-letter topic at once; the flow's
      // timeout then decides the order. Anything else (a database fault) is retried.
      if (error instanceof FlowReplyError || error instanceof PricingError) {
        throw new InvalidMessageError(error.message);
      }
      throw error;
    }
    if (result !== 'APPLIED') {
      this.logger.debug({
        msg: `${envelope.type} ${envelope.id} for order ${envelope.correlationId}: ${result}`,
        orderId: envelope.correlationId,
      });
    }
  }
}

/**
 * A reply's outcome and reason, checked before any engine sees it. A FAILURE's reason becomes
 * the order's `reason`, its history and the `orders` metric's label, so it must be one of the
 * words the contract knows for that participant (or the barrier's REFUSED): free text from a
 * reply must never reach a label, and an unknown reason is no business answer anyway. A reply
 * that fails is dead-lettered; the order then waits for a real answer or its timeout.
 * (The priced lines of an inventory SUCCESS are checked where they are used: `priceOrder`.)
 */
export function checkParticipantReply(envelope: Envelope): ParticipantReply {
  const participant = orderFlowMessages.participantOf(envelope.type);
  const reasons = participant === undefined ? undefined : REASONS_BY_PARTICIPANT[participant];
  if (reasons === undefined) throw invalid(envelope, 'its type names no participant');
  const payload = envelope.payload as Partial<Record<keyof ParticipantReply, unknown>>;
  const { outcome, reason } = payload;
  if (outcome === 'SUCCESS') {
    if (reason !== undefined) throw invalid(envelope, 'a SUCCESS carries no reason');
  } else if (outcome === 'FAILURE') {
    const known = reason === REFUSED_REASON || reasons.some((r) => r === reason);
    if (!known) throw invalid(envelope, `a FAILURE of ${participant} needs one of its reasons`);
  } else {
    throw invalid(envelope, 'outcome must be SUCCESS or FAILURE');
  }
  return payload as ParticipantReply;
}

function invalid(envelope: Envelope, problem: string): InvalidMessageError {
  return new InvalidMessageError(`Reply ${envelope.id} (${envelope.type}): ${problem}`);
}
