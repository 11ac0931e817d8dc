import type { OrderLine } from '@app/order-flow-api';
import { defineSaga, type SagaInstance } from '@app/dist-core/saga';
import { priceOrder, type PricedOrder } from '../../orders/order.js';
import { fundsCommand, send, stockCommand as stock } from '../flow-commands.js';
import { orderEndings } from '../order-endings.js';

export const ORDER_SAGA = 'order';

/** The saga's data (stored as jsonb with the saga): the order, and its prices once known. */
export interface OrderSagaData {
  orderId: string;
  customerId: string;
  items: OrderLine[];
  /** Set by inventory's reservation reply. */
  priced: PricedOrder | null;
}

const funds = (data: OrderSagaData) => fundsCommand(data, data.priced);
const ends = orderEndings('saga', (saga: SagaInstance<OrderSagaData>) => saga.data);

/**
 * Reserve the stock (which prices the order), take the payment, confirm the stock. A failure
 * compensates the steps before it in reverse order and the order ends CANCELLED with its
 * reason. confirmStock is past the pivot: a paid order only goes forward. The charge is
 * payment's barrier Try; the completed saga settles it, so a later refund is refused.
 */
export const orderSaga = defineSaga<OrderSagaData>(ORDER_SAGA)
  .step('reserveStock', (s) =>
    s
      .invoke(send('inventory.saga.reserve', stock))
      .withCompensation(send('inventory.saga.release', stock))
      .onSuccess((d, reply) => ({ ...d, priced: priceOrder(d.items, reply) })),
  )
  .step('takePayment', (s) =>
    s
      .invoke(send('payment.saga.charge', funds))
      .withCompensation(send('payment.saga.refund', funds))
      .settledBy(send('payment.saga.settle', funds)),
  )
  .step('confirmStock', (s) =>
    s.invoke(send('inventory.saga.confirm', stock)).retriedUntilSuccess(),
  )
  .onCompleted(ends.completed)
  .onCompensated(ends.cancelled);
