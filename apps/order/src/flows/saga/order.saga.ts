import { Logger } from '@nestjs/common';
import type { FundsCommand, OrderLine, StockCommand } from '@app/order-flow-api';
import { defineSaga } from '@app/dist-core/saga';
import { priceOrder, unpriced, type PricedOrder } from '../../orders/order.js';
import { settleOrder } from '../../orders/order.store.js';
import { flowCommand } from '../flow-commands.js';

export const ORDER_SAGA = 'order';

/** The saga's data (stored as jsonb with the saga): the order, and its prices once known. */
export interface OrderSagaData {
  orderId: string;
  customerId: string;
  items: OrderLine[];
  /** Set by inventory's reservation reply. */
  priced: PricedOrder | null;
}

const stock = (d: OrderSagaData): StockCommand => ({ orderId: d.orderId, items: d.items });

const funds = (d: OrderSagaData): FundsCommand => ({
  orderId: d.orderId,
  customerId: d.customerId,
  // takePayment runs only after reserveStock succeeded, which priced the order.
  amountCents: d.priced!.totalCents,
});

const logger = new Logger('OrderSaga');

/**
 * The order saga: reserve the stock (which prices the order), take the payment, confirm the
 * stock. A failed or timed-out step compensates the steps before it in reverse order (refund,
 * then release) and the order ends CANCELLED with the step's reason. confirmStock is past the
 * pivot: once the customer has paid, the order can only go forward, so it is retried until
 * inventory confirms (the reservation it confirms cannot fail for business reasons). On
 * completion the payment is settled, so every branch of a completed order is closed.
 *
 * Each hook runs in the transaction of the saga's last transition, so the order's terminal
 * status commits together with the saga's.
 */
export const orderSaga = defineSaga<OrderSagaData>(ORDER_SAGA)
  .step('reserveStock', (s) =>
    s
      .invoke((d) => flowCommand('inventory.saga.reserve', stock(d)))
      .withCompensation((d) => flowCommand('inventory.saga.release', stock(d)))
      .onSuccess((d, reply) => ({ ...d, priced: priceOrder(d.items, reply) })),
  )
  .step('takePayment', (s) =>
    s
      .invoke((d) => flowCommand('payment.saga.charge', funds(d)))
      .withCompensation((d) => flowCommand('payment.saga.refund', funds(d)))
      // The charge is payment's barrier Try; nothing else ever confirms it, so the completed
      // saga does, and a refund arriving after that (late, repeated or forged) is refused.
      .settledBy((d) => flowCommand('payment.saga.settle', funds(d))),
  )
  .step('confirmStock', (s) =>
    s.invoke((d) => flowCommand('inventory.saga.confirm', stock(d))).retriedUntilSuccess(),
  )
  .onCompleted(async (manager, saga) => {
    const { priced } = saga.data;
    const settled = await settleOrder(manager, saga.id, {
      status: 'COMPLETED',
      reason: null,
      items: priced!.items,
      totalCents: priced!.totalCents,
      at: saga.updatedAt,
    });
    if (settled) logger.log({ msg: 'Order COMPLETED by its saga', orderId: saga.id });
    else logger.warn({ msg: 'Order was not PENDING when its saga completed', orderId: saga.id });
  })
  .onCompensated(async (manager, saga, reason) => {
    const { priced, items } = saga.data;
    const settled = await settleOrder(manager, saga.id, {
      status: 'CANCELLED',
      reason,
      // Prices known before the failure are kept: they are what inventory quoted.
      items: priced?.items ?? unpriced(items),
      totalCents: priced?.totalCents ?? null,
      at: saga.updatedAt,
    });
    const orderId = saga.id;
    if (settled) logger.log({ msg: `Order CANCELLED by its saga (${reason})`, orderId, reason });
    else logger.warn({ msg: 'Order was not PENDING when its saga was compensated', orderId });
  });
