import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { SERVICE_CONFIG, ServiceIds } from '@app/dist-core/bootstrap';
import { orderFlowMessages } from '@app/order-flow-api';
import type { HistoryLine } from '@app/dist-core/engine';
import { Outbox } from '@app/dist-core/outbox';
import type { RecoveryLoop } from '@app/dist-core/recovery';
import { SagaOrchestrator } from '@app/dist-core/saga';
import { TccCoordinator } from '@app/dist-core/tcc';
import { TwoPhaseCommitCoordinator } from '@app/dist-core/twopc';
import type { OrderConfig } from '../config.js';
import type { Order } from '../orders/order.js';
import { OrderShards } from '../orders/order.store.js';
import type { OrderFlowInput, OrderSagaData } from './order-flow-steps.js';
import { ORDER_SAGA, orderSaga } from './saga/order.saga.js';
import { orderTcc } from './tcc/order.tcc.js';
import { order2pc } from './twopc/order.2pc.js';

/**
 * The three engines that carry an order, configured once: the SagaOrchestrator for `saga`
 * orders, the TccCoordinator for `tcc` orders, the TwoPhaseCommitCoordinator for `2pc` orders,
 * all sending through the transactional outbox of the order's shard. It also runs their recovery
 * pollers on every shard, from start-up until shutdown: timeouts and re-sends are rows with due
 * times, and these loops act on them.
 */
@Injectable()
export class OrderFlows implements OnApplicationBootstrap, OnModuleDestroy {
  readonly saga: SagaOrchestrator;
  readonly tcc: TccCoordinator<OrderFlowInput>;
  readonly twoPc: TwoPhaseCommitCoordinator<OrderFlowInput>;
  private readonly logger = new Logger(OrderFlows.name);
  private recoveries: RecoveryLoop[] = [];

  constructor(
    ids: ServiceIds,
    @Inject(SERVICE_CONFIG) config: OrderConfig,
    private readonly shards: OrderShards,
  ) {
    const outbox = new Outbox(ids);
    const stepTimeoutMs = config.ORDER_STEP_TIMEOUT_MS;
    this.saga = new SagaOrchestrator([orderSaga], outbox, {
      messages: orderFlowMessages,
      stepTimeoutMs,
      sagaTimeoutMs: config.ORDER_FLOW_TIMEOUT_MS,
    });
    this.tcc = new TccCoordinator(orderTcc, outbox, {
      messages: orderFlowMessages,
      tryTimeoutMs: config.ORDER_FLOW_TIMEOUT_MS,
      // A Confirm or Cancel without an answer is re-sent after half to one step timeout (equal
      // jitter), then backs off to twice that: as patient as a saga's command.
      backoff: { baseMs: stepTimeoutMs, maxMs: 2 * stepTimeoutMs },
    });
    // The same deadline for the votes, and the same patience with commit and rollback: a
    // decision is never abandoned, as a Confirm or Cancel is not.
    this.twoPc = new TwoPhaseCommitCoordinator(order2pc, outbox, {
      messages: orderFlowMessages,
      prepareTimeoutMs: config.ORDER_FLOW_TIMEOUT_MS,
      backoff: { baseMs: stepTimeoutMs, maxMs: 2 * stepTimeoutMs },
    });
  }

  /**
   * Starts the order's flow inside the caller's transaction, the one that inserts the order:
   * the flow's row and its first command (in the outbox) commit with the order, or not at all.
   */
  async start(manager: EntityManager, order: Order): Promise<void> {
    const { id: orderId, customerId } = order;
    const items = order.items.map(({ sku, quantity }) => ({ sku, quantity }));
    if (order.strategy === 'saga') {
      const data: OrderSagaData = { orderId, customerId, items, priced: null };
      await this.saga.start(manager, ORDER_SAGA, orderId, data);
    } else {
      // TCC and 2PC: the same coordinator and input, two definitions (libs/dist-core/src/twopc).
      const coordinator = order.strategy === 'tcc' ? this.tcc : this.twoPc;
      await coordinator.begin(manager, orderId, { orderId, customerId, items });
    }
  }

  /** The steps the order's flow went through, oldest first: one line format for all three. */
  history(manager: EntityManager, order: Order): Promise<HistoryLine[]> {
    const engine = { saga: this.saga, tcc: this.tcc, '2pc': this.twoPc }[order.strategy];
    return engine.history(manager, order.id);
  }

  onApplicationBootstrap(): void {
    for (const { dataSource } of this.shards.all()) {
      this.recoveries.push(
        this.saga.recovery(dataSource),
        this.tcc.recovery(dataSource),
        this.twoPc.recovery(dataSource),
      );
    }
    for (const recovery of this.recoveries) recovery.start();
    this.logger.log(`Saga, TCC and 2PC recovery running on ${this.shards.all().length} shards`);
  }

  /** Before the pools close (InfrastructureShutdown runs at onApplicationShutdown, later). */
  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.recoveries.map((recovery) => recovery.stop()));
    this.recoveries = [];
  }
}
