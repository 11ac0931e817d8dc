import type { OrderFlowMessageType, OrderLine } from '@app/order-flow-api';
import type { TccTransaction } from '@app/dist-core/tcc';
import { defineTwoPhaseCommit } from '@app/dist-core/twopc';
import { priceOrder } from '../../orders/order.js';
import { fundsCommand, route, stockCommand } from '../flow-commands.js';
import { orderEndings } from '../order-endings.js';

export const ORDER_2PC = 'order-2pc';

/** The transaction's input (stored as jsonb in the coordinator's log); the gid is the order id. */
export interface Order2pcInput {
  orderId: string;
  customerId: string;
  items: OrderLine[];
}

type Tx = Pick<TccTransaction<Order2pcInput>, 'input' | 'results'>;
/** Inventory's yes vote prices the order; null until it voted yes. */
const priced = ({ input, results }: Tx) =>
  results.inventory ? priceOrder(input.items, results.inventory) : null;
const stock = (tx: Tx) => stockCommand(tx.input);
const funds = (tx: Tx) => fundsCommand(tx.input, priced(tx));
const ends = orderEndings('2PC', (tx: TccTransaction<Order2pcInput>) => ({
  ...tx.input,
  priced: priced(tx),
}));

/**
 * Each participant makes its change (stock sold, total spent) in a local transaction, PREPAREs
 * it and votes; every yes commits them all (COMMIT PREPARED), a no or no vote by the deadline
 * rolls back those asked (ROLLBACK PREPARED), and the order ends CANCELLED with the reason (or
 * TIMEOUT). Inventory is prepared first: payment spends the total only its vote knows.
 */
export const order2pc = defineTwoPhaseCommit<Order2pcInput, OrderFlowMessageType>(ORDER_2PC)
  .participant('inventory', (p) =>
    p
      .prepares(route('inventory.2pc.prepare'), stock)
      .committedBy(route('inventory.2pc.commit'))
      .rolledBackBy(route('inventory.2pc.rollback')),
  )
  .participant('payment', (p) =>
    p
      .prepares(route('payment.2pc.prepare'), funds)
      .committedBy(route('payment.2pc.commit'))
      .rolledBackBy(route('payment.2pc.rollback')),
  )
  .onCommitted(ends.completed)
  .onRolledBack(ends.cancelled);
