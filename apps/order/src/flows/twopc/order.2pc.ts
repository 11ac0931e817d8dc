import type { OrderFlowMessageType } from '@app/order-flow-api';
import { defineTwoPhaseCommit } from '@app/dist-core/twopc';
import { branchCommands, route, type OrderFlowInput } from '../order-flow-steps.js';

export const ORDER_2PC = 'order-2pc';

const { stock, funds, ends } = branchCommands('2PC');

/**
 * Each participant makes its change (stock sold, total spent) in a local transaction, PREPAREs
 * it and votes; every yes commits them all (COMMIT PREPARED), a no or no vote by the deadline
 * rolls back those asked (ROLLBACK PREPARED), and the order ends CANCELLED with the reason (or
 * TIMEOUT). Inventory is prepared first: payment spends the total only its vote knows.
 */
export const order2pc = defineTwoPhaseCommit<OrderFlowInput, OrderFlowMessageType>(ORDER_2PC)
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
