import { Controller, Logger } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import type { EntityManager } from 'typeorm';
import { orderFlowMessages, type ParticipantReply } from '@app/order-flow-api';
import { FlowReplyError } from '@app/dist-core/engine';
import { handleOnce } from '@app/dist-core/inbox';
import { InvalidMessageError, OnMessage, type Envelope } from '@app/dist-core/kafka';
import { PricingError } from '../orders/order.js';
import { OrderShards } from '../shards/order-shards.js';
import { OrderFlows } from './order-flows.js';
import { checkParticipantReply } from './participant-reply.js';

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
