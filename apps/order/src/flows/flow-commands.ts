import {
  orderFlowMessages,
  type FundsCommand,
  type OrderFlowMessageType,
  type StockCommand,
} from '@app/order-flow-api';
import type { PayloadOf } from '@app/dist-core/kafka';
import type { PricedOrder } from '../orders/order.js';

type Contracts = typeof orderFlowMessages.contracts;

/**
 * A command of the order flow as the engines take it (`{topic, type, payload}`), checked
 * against the shared contracts: a renamed type or a wrong payload breaks the build.
 */
export function flowCommand<T extends OrderFlowMessageType>(
  type: T,
  payload: PayloadOf<Contracts, T>,
): { topic: string; type: T; payload: PayloadOf<Contracts, T> } {
  return { ...orderFlowMessages.route(type), payload };
}

/** A saga step's command: the command of `type`, its payload built from the saga's data. */
export function send<T extends OrderFlowMessageType, D>(
  type: T,
  payload: (data: D) => PayloadOf<Contracts, T>,
) {
  return (data: D) => flowCommand(type, payload(data));
}

/** A declared message type (so a rename breaks the build) and the topic it travels on. */
export const route = <T extends OrderFlowMessageType>(type: T) => orderFlowMessages.route(type);

/** What inventory is asked to reserve, confirm or release: the order's lines. */
export const stockCommand = ({ orderId, items }: StockCommand): StockCommand => ({
  orderId,
  items,
});

/** What payment is asked to charge or freeze: the total inventory priced (asked only after). */
export function fundsCommand(
  order: { orderId: string; customerId: string },
  priced: PricedOrder | null,
): FundsCommand {
  return { orderId: order.orderId, customerId: order.customerId, amountCents: priced!.totalCents };
}
