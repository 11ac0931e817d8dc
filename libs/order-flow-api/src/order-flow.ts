import { defineMessages, participant } from '@app/dist-core/kafka';

/*
 * The messages of the order flow, declared once: the order service sends the commands and
 * receives the replies; inventory and payment receive the commands and send the replies.
 *
 * Topics: each participant has its own command topic, which only it reads, and its own reply
 * topic, which only it writes (the broker's ACLs), so where a reply arrived says who sent it: the
 * order service takes a reply only from the participant of the command it answers. Every message
 * is keyed by the order id (the envelope's correlationId), so one order's messages stay in order.
 *
 * Both flows drive the same three participant operations, each behind the participant's barrier
 * (libs/dist-core/src/barrier/tcc-barrier.ts) keyed by (order id, participant):
 *
 *   barrier op   inventory                      payment
 *   try          reserve: available → reserved   saga: charge  available → spent
 *                                                tcc:  freeze  available → frozen
 *   confirm      confirm: reserved → sold        tcc:  capture frozen → spent
 *                                                saga: settle  (no change: closes the branch; no reply)
 *   cancel       release: reserved → available   saga: refund  spent → available
 *                                                tcc:  unfreeze frozen → available
 *
 * The saga's commands and the TCC's are distinct types so that each reply goes back to its own
 * engine: `<participant>.saga.reply` to the SagaOrchestrator, `<participant>.tcc.reply` to the
 * TccCoordinator.
 */

const inventory = participant('inventory');
const payment = participant('payment');

export const TOPICS = {
  inventoryCommands: inventory.commands,
  paymentCommands: payment.commands,
  inventoryReplies: inventory.replies,
  paymentReplies: payment.replies,
  inventoryDecisions: inventory.decisions,
  paymentDecisions: payment.decisions,
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

/**
 * Commands to payment. `amountCents` is the order total that inventory's reply priced; a confirm,
 * refund or cancel repeats the Try's customer and amount, and payment refuses one that differs.
 */
export interface FundsCommand {
  orderId: string;
  customerId: string;
  amountCents: number;
}

/** The business reasons each participant may answer FAILURE with (CONTRACT.md's, but TIMEOUT). */
export const INVENTORY_REASONS = ['OUT_OF_STOCK', 'UNKNOWN_PRODUCT'] as const;
export const PAYMENT_REASONS = ['INSUFFICIENT_FUNDS', 'UNKNOWN_CUSTOMER'] as const;

export type BusinessReason = (typeof INVENTORY_REASONS)[number] | (typeof PAYMENT_REASONS)[number];

/** Each participant's business reasons, by participant name (the reply topic's owner). */
export const REASONS_BY_PARTICIPANT: Readonly<Record<string, readonly BusinessReason[]>> = {
  [inventory.name]: INVENTORY_REASONS,
  [payment.name]: PAYMENT_REASONS,
};

/**
 * Every reply: `causationId` (in the envelope) names the command it answers. A SUCCESS reply of
 * an inventory try carries the priced lines and the total. A FAILURE's reason is one of its
 * participant's business reasons, or the barrier's REFUSED (the branch was settled the other way).
 */
export interface ParticipantReply {
  outcome: 'SUCCESS' | 'FAILURE';
  reason?: BusinessReason | 'REFUSED';
  items?: PricedLine[];
  totalCents?: number;
  [field: string]: unknown;
}

export const orderFlowMessages = defineMessages({
  // Saga: reserve stock → charge the customer → confirm stock; compensations release and refund.
  'inventory.saga.reserve': inventory.command<StockCommand>(),
  'inventory.saga.confirm': inventory.command<StockCommand>(),
  'inventory.saga.release': inventory.command<StockCommand>(),
  'payment.saga.charge': payment.command<FundsCommand>(),
  'payment.saga.refund': payment.command<FundsCommand>(),
  // Sent when the saga completes: closes the charge's branch, so a late refund is refused.
  'payment.saga.settle': payment.command<FundsCommand>(),
  // TCC: try both (inventory first: payment's try needs the total), then confirm or cancel both.
  'inventory.tcc.try': inventory.command<StockCommand>(),
  'inventory.tcc.confirm': inventory.command<StockCommand>(),
  'inventory.tcc.cancel': inventory.command<StockCommand>(),
  'payment.tcc.try': payment.command<FundsCommand>(),
  'payment.tcc.confirm': payment.command<FundsCommand>(),
  'payment.tcc.cancel': payment.command<FundsCommand>(),
  // 2PC: prepare both (inventory first: payment's prepare needs the total), each holding its
  // change in a PostgreSQL prepared transaction and voting in its reply; then the coordinator's
  // decision, on the participant's decisions topic, commits or rolls back the prepared ones.
  'inventory.2pc.prepare': inventory.command<StockCommand>(),
  'inventory.2pc.commit': inventory.decision<StockCommand>(),
  'inventory.2pc.rollback': inventory.decision<StockCommand>(),
  'payment.2pc.prepare': payment.command<FundsCommand>(),
  'payment.2pc.commit': payment.decision<FundsCommand>(),
  'payment.2pc.rollback': payment.decision<FundsCommand>(),
  // Replies to the order service, each on its sender's own topic.
  'inventory.saga.reply': inventory.reply<ParticipantReply>(),
  'inventory.tcc.reply': inventory.reply<ParticipantReply>(),
  'payment.saga.reply': payment.reply<ParticipantReply>(),
  'payment.tcc.reply': payment.reply<ParticipantReply>(),
  // A prepare's reply is its vote (SUCCESS: prepared; FAILURE: refused, nothing held); a
  // commit's or rollback's is its acknowledgement.
  'inventory.2pc.reply': inventory.reply<ParticipantReply>(),
  'payment.2pc.reply': payment.reply<ParticipantReply>(),
});

export type OrderFlowMessageType = keyof typeof orderFlowMessages.contracts;
