import { Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  orderFlowMessages,
  type FundsCommand,
  type OrderFlowMessageType,
  type OrderLine,
  type StockCommand,
} from '@app/order-flow-api';
import type { PayloadOf } from '@app/dist-core/kafka';
import type { SagaInstance } from '@app/dist-core/saga';
import type { TccTransaction } from '@app/dist-core/tcc';
import { priceOrder, unpriced, type PricedOrder } from '../orders/order.js';
import { settleOrder } from '../orders/order.store.js';

/**
 * What the three order flows are made of: the order they carry, the commands their steps send,
 * and the two endings. The flow files (saga/, tcc/, twopc/) only arrange these.
 */

/** What every order flow carries, whichever protocol: stored as jsonb with the flow. */
export interface OrderFlowInput {
  orderId: string;
  customerId: string;
  items: OrderLine[];
}

/** The saga's data: the order, and its prices once inventory's reservation reply set them. */
export interface OrderSagaData extends OrderFlowInput {
  priced: PricedOrder | null;
}

type Contracts = typeof orderFlowMessages.contracts;

/**
 * A command of the order flow as the engines take it (`{topic, type, payload}`), checked
 * against the shared contracts: a renamed type or a wrong payload breaks the build.
 */
function flowCommand<T extends OrderFlowMessageType>(
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
const stockCommand = ({ orderId, items }: StockCommand): StockCommand => ({
  orderId,
  items,
});

/** What payment is asked to charge or freeze: the total inventory priced (asked only after). */
function fundsCommand(order: OrderFlowInput, priced: PricedOrder | null): FundsCommand {
  return { orderId: order.orderId, customerId: order.customerId, amountCents: priced!.totalCents };
}

/** The saga's commands and endings: its data carries the prices. */
export const sagaCommands = () => ({
  stock: stockCommand,
  funds: (data: OrderSagaData) => fundsCommand(data, data.priced),
  ends: orderEndings('saga', (saga: SagaInstance<OrderSagaData>) => saga.data),
});

/**
 * The branches of TCC and 2PC (the same coordinator): inventory's Try or prepare reply prices
 * the order, null until it succeeded; payment is asked for that total.
 */
type Tx = Pick<TccTransaction<OrderFlowInput>, 'input' | 'results'>;
const pricedTx = ({ input, results }: Tx) =>
  results.inventory ? priceOrder(input.items, results.inventory) : null;
export const branchCommands = (flow: 'TCC' | '2PC') => ({
  stock: (tx: Tx) => stockCommand(tx.input),
  funds: (tx: Tx) => fundsCommand(tx.input, pricedTx(tx)),
  ends: orderEndings(flow, (tx: TccTransaction<OrderFlowInput>) => ({
    ...tx.input,
    priced: pricedTx(tx),
  })),
});

/** What ending an order needs from the flow that carried it. */
interface OrderEnd {
  orderId: string;
  items: OrderLine[];
  /** The prices inventory quoted, once it did. */
  priced: PricedOrder | null;
}

/**
 * The two hooks every order flow ends with, COMPLETED or CANCELLED, whichever protocol carried
 * it. Each runs in the transaction of the flow's last transition, so the order's terminal
 * status commits together with the flow's; an order already settled is left alone (logged).
 */
function orderEndings<F extends { updatedAt: Date }>(
  flow: 'saga' | 'TCC' | '2PC',
  endOf: (flow: F) => OrderEnd,
) {
  const logger = new Logger({ saga: 'OrderSaga', TCC: 'OrderTcc', '2PC': 'Order2pc' }[flow]);
  return {
    completed: async (manager: EntityManager, done: F): Promise<void> => {
      const { orderId, priced } = endOf(done);
      const settled = await settleOrder(manager, orderId, {
        status: 'COMPLETED',
        reason: null,
        // A completed flow has been priced: every step or Try succeeded.
        items: priced!.items,
        totalCents: priced!.totalCents,
        at: done.updatedAt,
      });
      if (settled) logger.log({ msg: `Order COMPLETED by its ${flow}`, orderId });
      else logger.warn({ msg: `Order was not PENDING when its ${flow} completed`, orderId });
    },
    cancelled: async (manager: EntityManager, done: F, reason: string): Promise<void> => {
      const { orderId, items, priced } = endOf(done);
      const settled = await settleOrder(manager, orderId, {
        status: 'CANCELLED',
        reason,
        // Prices known before the failure are kept: they are what inventory quoted.
        items: priced?.items ?? unpriced(items),
        totalCents: priced?.totalCents ?? null,
        at: done.updatedAt,
      });
      if (settled)
        logger.log({ msg: `Order CANCELLED by its ${flow} (${reason})`, orderId, reason });
      else logger.warn({ msg: `Order was not PENDING when its ${flow} was cancelled`, orderId });
    },
  };
}
