import { Logger } from '@nestjs/common';
import {
  orderFlowMessages,
  type FundsCommand,
  type OrderFlowMessageType,
  type OrderLine,
  type StockCommand,
} from '@app/order-flow-api';
import type { TccDefinition, TccTransaction } from '@app/dist-core/tcc';
import { priceOrder, unpriced, type PricedOrder } from '../../orders/order.js';
import { settleOrder } from '../../orders/order.store.js';

export const ORDER_TCC = 'order';

/** The transaction's input (stored as jsonb in the TCC log); the gid is the order id. */
export interface OrderTccInput {
  orderId: string;
  customerId: string;
  items: OrderLine[];
}

/** Inventory's Try reply prices the order; null until it succeeded. */
function pricedBy(
  tx: Pick<TccTransaction<OrderTccInput>, 'input' | 'results'>,
): PricedOrder | null {
  const reply = tx.results.inventory;
  return reply ? priceOrder(tx.input.items, reply) : null;
}

const logger = new Logger('OrderTcc');

/** A declared message type (so a rename breaks the build) and the topic it travels on. */
const route = (type: OrderFlowMessageType) => orderFlowMessages.route(type);

/**
 * The order as a TCC transaction: Try reserves the stock (inventory) and freezes the total
 * (payment); Confirm sells the stock and captures the funds; Cancel releases and unfreezes.
 *
 * The Trys run in sequence, inventory first, not in parallel: payment must freeze the order's
 * total, and only inventory's Try reply knows the prices. The coordinator sends payment's Try
 * once inventory's has succeeded, built from that reply (`results.inventory`). Any failed Try,
 * or no answer by the deadline, cancels every branch that was tried; the order ends CANCELLED
 * with the failed Try's reason (or TIMEOUT). Confirm and Cancel are re-sent until they succeed.
 */
export const orderTcc: TccDefinition<OrderTccInput> = {
  kind: ORDER_TCC,
  branches: [
    {
      name: 'inventory',
      topic: route('inventory.tcc.try').topic,
      types: {
        try: route('inventory.tcc.try').type,
        confirm: route('inventory.tcc.confirm').type,
        cancel: route('inventory.tcc.cancel').type,
      },
      tryPayload: ({ input }): StockCommand => ({ orderId: input.orderId, items: input.items }),
    },
    {
      name: 'payment',
      topic: route('payment.tcc.try').topic,
      types: {
        try: route('payment.tcc.try').type,
        confirm: route('payment.tcc.confirm').type,
        cancel: route('payment.tcc.cancel').type,
      },
      tryPayload: (context): FundsCommand => ({
        orderId: context.input.orderId,
        customerId: context.input.customerId,
        amountCents: pricedBy(context)!.totalCents,
      }),
    },
  ],
  async onConfirmed(manager, tx) {
    const priced = pricedBy(tx)!;
    const settled = await settleOrder(manager, tx.gid, {
      status: 'COMPLETED',
      reason: null,
      items: priced.items,
      totalCents: priced.totalCents,
      at: tx.updatedAt,
    });
    if (settled) logger.log({ msg: 'Order COMPLETED by its TCC', orderId: tx.gid });
    else logger.warn({ msg: 'Order was not PENDING when its TCC confirmed', orderId: tx.gid });
  },
  async onCancelled(manager, tx, reason) {
    const priced = pricedBy(tx);
    const settled = await settleOrder(manager, tx.gid, {
      status: 'CANCELLED',
      reason,
      items: priced?.items ?? unpriced(tx.input.items),
      totalCents: priced?.totalCents ?? null,
      at: tx.updatedAt,
    });
    const orderId = tx.gid;
    if (settled) logger.log({ msg: `Order CANCELLED by its TCC (${reason})`, orderId, reason });
    else logger.warn({ msg: 'Order was not PENDING when its TCC was cancelled', orderId });
  },
};
