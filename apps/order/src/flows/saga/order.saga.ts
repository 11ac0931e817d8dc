import type { FundsCommand, OrderLine, StockCommand } from '@app/dist-core/contracts';
import { defineSaga, type SagaInstance } from '@app/dist-core/saga';
import { priceOrder, type PricedOrder } from '../../orders/order.js';
import { send } from '../flow-commands.js';
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

type Data = OrderSagaData;
const stock = ({ orderId, items }: Data): StockCommand => ({ orderId, items });
// takePayment runs only after reserveStock succeeded, which priced the order.
const funds = ({ orderId, customerId, priced }: Data): FundsCommand => ({
  ...{ orderId, customerId, amountCents: priced!.totalCents },
});
const ends = orderEndings('saga', (s: SagaInstance<Data>) => ({ ...s.data, at: s.updatedAt }));

/**
 * Reserve the stock (which prices the order), take the payment, confirm the stock. A failure
 * compensates the steps before it in reverse order and the order ends CANCELLED with its
 * reason. confirmStock is past the pivot: a paid order only goes forward. The charge is
 * payment's barrier Try; the completed saga settles it, so a later refund is refused.
 */
export const orderSaga = defineSaga<Data>(ORDER_SAGA)
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
