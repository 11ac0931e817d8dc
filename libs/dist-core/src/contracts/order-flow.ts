import { defineMessages, message } from '../kafka/contracts.js';

/*
 * The messages of the order flow, declared once: the order service sends the commands and
 * receives the replies; inventory and payment receive the commands and send the replies.
 *
 * Topics: one command topic per participant, one reply topic for the coordinator. Every message
 * is keyed by the order id (the envelope's correlationId), so one order's messages stay in order.
 *
 * Both flows drive the same three participant operations, each behind the participant's barrier
 * (libs/dist-core/src/tcc/tcc-barrier.ts) keyed by (order id, participant):
 *
 *   barrier op   inventory                      payment
 *   try          reserve: available → reserved   saga: charge  available → spent
 *                                                tcc:  freeze  available → frozen
 *   confirm      confirm: reserved → sold        tcc:  capture frozen → spent
 *   cancel       release: reserved → available   saga: refund  spent → available
 *                                                tcc:  unfreeze frozen → available
 *
 * The saga's commands and the TCC's are distinct types so that each reply goes back to its own
 * engine: `saga.reply` to the SagaOrchestrator, `tcc.reply` to the TccCoordinator.
 */

export const TOPICS = {
  inventoryCommands: 'inventory.commands',
  paymentCommands: 'payment.commands',
  orderReplies: 'order.replies',
} as const;

export interface OrderLine {
  sku: string;
  quantity: number;
}

export interface PricedLine extends OrderLine {
  unitPriceCents: number;
}

/** Commands to inventory: the lines to reserve (try); confirm and cancel need only the order id. */
export interface StockCommand {
  orderId: string;
  items: OrderLine[];
}

/** Commands to payment. `amountCents` is the order total that inventory's reply priced. */
export interface FundsCommand {
  orderId: string;
  customerId: string;
  amountCents: number;
}

export type BusinessReason =
  'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT' | 'INSUFFICIENT_FUNDS' | 'UNKNOWN_CUSTOMER';

/**
 * Every reply: `causationId` (in the envelope) names the command it answers. A SUCCESS reply of
 * an inventory try carries the priced lines and the total.
 */
export interface ParticipantReply {
  outcome: 'SUCCESS' | 'FAILURE';
  reason?: BusinessReason;
  items?: PricedLine[];
  totalCents?: number;
  [field: string]: unknown;
}

export const orderFlowMessages = defineMessages({
  // Saga: reserve stock → charge the customer → confirm stock; compensations release and refund.
  'inventory.saga.reserve': message<StockCommand>(TOPICS.inventoryCommands),
  'inventory.saga.confirm': message<StockCommand>(TOPICS.inventoryCommands),
  'inventory.saga.release': message<StockCommand>(TOPICS.inventoryCommands),
  'payment.saga.charge': message<FundsCommand>(TOPICS.paymentCommands),
  'payment.saga.refund': message<FundsCommand>(TOPICS.paymentCommands),
  // TCC: try both (inventory first: payment's try needs the total), then confirm or cancel both.
  'inventory.tcc.try': message<StockCommand>(TOPICS.inventoryCommands),
  'inventory.tcc.confirm': message<StockCommand>(TOPICS.inventoryCommands),
  'inventory.tcc.cancel': message<StockCommand>(TOPICS.inventoryCommands),
  'payment.tcc.try': message<FundsCommand>(TOPICS.paymentCommands),
  'payment.tcc.confirm': message<FundsCommand>(TOPICS.paymentCommands),
  'payment.tcc.cancel': message<FundsCommand>(TOPICS.paymentCommands),
  // Replies to the order service.
  'saga.reply': message<ParticipantReply>(TOPICS.orderReplies),
  'tcc.reply': message<ParticipantReply>(TOPICS.orderReplies),
});

export type OrderFlowMessageType = keyof typeof orderFlowMessages.contracts;
