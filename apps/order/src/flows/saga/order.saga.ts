import { defineSaga } from '@app/dist-core/saga';
import { priceOrder } from '../../orders/order.js';
import { sagaCommands, send, type OrderSagaData } from '../order-flow-steps.js';

export const ORDER_SAGA = 'order';

const { stock, funds, ends } = sagaCommands();

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
