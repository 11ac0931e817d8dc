import { Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { OrderLine } from '@app/order-flow-api';
import { unpriced, type PricedOrder } from '../orders/order.js';
import { settleOrder } from '../orders/order.store.js';

/** What ending an order needs from the flow that carried it. */
export interface OrderEnd {
  orderId: string;
  items: OrderLine[];
  /** The prices inventory quoted, once it did. */
  priced: PricedOrder | null;
}

/**
 * The two hooks every order flow ends with, COMPLETED or CANCELLED, whichever protocol carried
 * it. Each runs in the transaction of the flow's last transition, so the order's terminal
 * status commits together with the flow's; an order already settled is left alone (logged).
 */
export function orderEndings<F extends { updatedAt: Date }>(
  flow: 'saga' | 'TCC' | '2PC',
  endOf: (flow: F) => OrderEnd,
) {
  const logger = new Logger({ saga: 'OrderSaga', TCC: 'OrderTcc', '2PC': 'Order2pc' }[flow]);
  return {
    completed: async (manager: EntityManager, done: F): Promise<void> => {
      const { orderId, priced } = endOf(done);
      const settled = await settleOrder(manager, orderId, {
        status: 'COMPLETED',
        reason: null,
        // A completed flow has been priced: every step or Try succeeded.
        items: priced!.items,
        totalCents: priced!.totalCents,
        at: done.updatedAt,
      });
      if (settled) logger.log({ msg: `Order COMPLETED by its ${flow}`, orderId });
      else logger.warn({ msg: `Order was not PENDING when its ${flow} completed`, orderId });
    },
    cancelled: async (manager: EntityManager, done: F, reason: string): Promise<void> => {
      const { orderId, items, priced } = endOf(done);
      const settled = await settleOrder(manager, orderId, {
        status: 'CANCELLED',
        reason,
        // Prices known before the failure are kept: they are what inventory quoted.
        items: priced?.items ?? unpriced(items),
        totalCents: priced?.totalCents ?? null,
        at: done.updatedAt,
      });
      if (settled)
        logger.log({ msg: `Order CANCELLED by its ${flow} (${reason})`, orderId, reason });
      else logger.warn({ msg: `Order was not PENDING when its ${flow} was cancelled`, orderId });
    },
  };
}
