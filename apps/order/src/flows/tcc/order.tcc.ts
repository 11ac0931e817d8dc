import type { OrderFlowMessageType, OrderLine } from '@app/order-flow-api';
import { defineTcc, type TccTransaction } from '@app/dist-core/tcc';
import { priceOrder } from '../../orders/order.js';
import { fundsCommand, route, stockCommand } from '../flow-commands.js';
import { orderEndings } from '../order-endings.js';

export const ORDER_TCC = 'order';

/** The transaction's input (stored as jsonb in the TCC log); the gid is the order id. */
export interface OrderTccInput {
  orderId: string;
  customerId: string;
  items: OrderLine[];
}

type Tx = Pick<TccTransaction<OrderTccInput>, 'input' | 'results'>;
/** Inventory's Try reply prices the order; null until it succeeded. */
const priced = ({ input, results }: Tx) =>
  results.inventory ? priceOrder(input.items, results.inventory) : null;
const stock = (tx: Tx) => stockCommand(tx.input);
const funds = (tx: Tx) => fundsCommand(tx.input, priced(tx));
const ends = orderEndings('TCC', (tx: TccTransaction<OrderTccInput>) => ({
  ...tx.input,
  priced: priced(tx),
}));

/**
 * Try reserves the stock and freezes the total; Confirm sells and captures; Cancel releases
 * and unfreezes. The Trys run in order, inventory first: payment freezes the total that only
 * inventory's Try reply knows. A failed Try, or none by the deadline, cancels every branch
 * tried, and the order ends CANCELLED with its reason (or TIMEOUT).
 */
export const orderTcc = defineTcc<OrderTccInput, OrderFlowMessageType>(ORDER_TCC)
  .branch('inventory', (b) =>
    b
      .tries(route('inventory.tcc.try'), stock)
      .confirmedBy(route('inventory.tcc.confirm'))
      .cancelledBy(route('inventory.tcc.cancel')),
  )
  .branch('payment', (b) =>
    b
      .tries(route('payment.tcc.try'), funds)
      .confirmedBy(route('payment.tcc.confirm'))
      .cancelledBy(route('payment.tcc.cancel')),
  )
  .onConfirmed(ends.completed)
  .onCancelled(ends.cancelled);
