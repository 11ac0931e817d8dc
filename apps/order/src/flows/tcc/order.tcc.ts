import type { OrderFlowMessageType } from '@app/order-flow-api';
import { defineTcc } from '@app/dist-core/tcc';
import { branchCommands, route, type OrderFlowInput } from '../order-flow-steps.js';

export const ORDER_TCC = 'order';

const { stock, funds, ends } = branchCommands('TCC');

/**
 * Try reserves the stock and freezes the total; Confirm sells and captures; Cancel releases
 * and unfreezes. The Trys run in order, inventory first: payment freezes the total that only
 * inventory's Try reply knows. A failed Try, or none by the deadline, cancels every branch
 * tried, and the order ends CANCELLED with its reason (or TIMEOUT).
 */
export const orderTcc = defineTcc<OrderFlowInput, OrderFlowMessageType>(ORDER_TCC)
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
