import { orderFlowMessages, type OrderFlowMessageType } from '@app/order-flow-api';
import type { PayloadOf } from '@app/dist-core/kafka';

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
