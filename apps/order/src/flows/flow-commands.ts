import { orderFlowMessages, type OrderFlowMessageType } from '@app/dist-core/contracts';
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

/** A saga step's command: the command of `type`, its payload built from the saga's data. */
export function send<T extends OrderFlowMessageType, D>(
  type: T,
  payload: (data: D) => PayloadOf<Contracts, T>,
) {
  return (data: D) => flowCommand(type, payload(data));
}

/** A declared message type (so a rename breaks the build) and the topic it travels on. */
export const route = <T extends OrderFlowMessageType>(type: T) => orderFlowMessages.route(type);
