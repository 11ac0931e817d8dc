import {
  Injectable,
  Logger,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { actsFor, type Principal } from '@app/dist-core/auth';
import { ServiceIds } from '@app/dist-core/bootstrap';
import { OrderFlows } from '../flows/order-flows.js';
import type { OrderView } from './dto/order.view.js';
import { claimIdempotencyKey, requestHash } from '../orders/idempotency-keys.js';
import { unpriced, type Order, type OrderRequest } from '../orders/order.js';
import {
  findOrder,
  insertOrder,
  listOrdersOfCustomer,
  listRecentOrders,
  OrderShards,
} from '../orders/order.store.js';

@Injectable()
export class OrdersService {
  private readonly logger = new Logger(OrdersService.name);

  constructor(
    private readonly ids: ServiceIds,
    private readonly shards: OrderShards,
    private readonly flows: OrderFlows,
  ) {}

  /**
   * Places an order and starts its flow without waiting for it. With an idempotency key, the
   * key first names the order's id (see idempotency-keys.ts), and the order is created under
   * that id unless it exists already.
   */
  async place(request: OrderRequest, idempotencyKey: string | null): Promise<OrderView> {
    if (idempotencyKey === null) return this.ensureOrder(this.ids.nextId(), request, null);
    const hash = requestHash(request);
    const claim = await claimIdempotencyKey(
      (await this.shards.holdingIdempotencyKey(request.customerId, idempotencyKey)).dataSource,
      request.customerId,
      idempotencyKey,
      hash,
      this.ids.nextId(),
    );
    if (claim.requestHash !== hash) {
      throw new UnprocessableEntityException(
        'Idempotency-Key was already used with a different request body',
      );
    }
    return this.ensureOrder(claim.orderId, request, { key: idempotencyKey, requestHash: hash });
  }

  /**
   * An order as the caller may see it. Another customer's order is, to a customer, no order
   * at all: the same 404, so an id says nothing about whether it exists.
   */
  async get(id: string, caller: Principal): Promise<OrderView> {
    const found = await this.shards.findAcrossMove(id, async ({ dataSource: { manager } }) => {
      const order = await findOrder(manager, id);
      return order && { order, manager };
    });
    if (!found || !actsFor(caller, found.order.customerId)) {
      throw new NotFoundException(`No order ${id}`);
    }
    return this.view(found.manager, found.order);
  }

  /** A customer's newest orders across every shard. */
  listByCustomer(customerId: string, limit: number): Promise<OrderView[]> {
    return this.newestAcrossShards(
      (manager) => listOrdersOfCustomer(manager, customerId, limit),
      limit,
    );
  }

  /** The newest orders of every customer, across every shard (the operator's view, /ui). */
  listRecent(limit: number): Promise<OrderView[]> {
    return this.newestAcrossShards((manager) => listRecentOrders(manager, limit), limit);
  }

  /** Each shard's newest `limit` orders, merged by id: Snowflake ids grow with time. */
  private async newestAcrossShards(
    query: (manager: EntityManager) => Promise<Order[]>,
    limit: number,
  ): Promise<OrderView[]> {
    const newestFirst = (a: { order: Order }, b: { order: Order }) => {
      const x = BigInt(a.order.id);
      const y = BigInt(b.order.id);
      return x > y ? -1 : x < y ? 1 : 0;
    };
    const found = await this.shards.scatterGather(
      async ({ dataSource }) =>
        (await query(dataSource.manager)).map((order) => ({
          order,
          manager: dataSource.manager,
        })),
      { compare: newestFirst, limit, keyOf: ({ order }) => order.id },
    );
    return Promise.all(found.map(({ order, manager }) => this.view(manager, order)));
  }

  /**
   * Creates the order `id` on its shard and starts its flow — one local transaction — unless
   * an order with that id exists (an idempotent replay), in which case it reads that one.
   */
  private async ensureOrder(
    id: string,
    request: OrderRequest,
    idempotency: { key: string; requestHash: string } | null,
  ): Promise<OrderView> {
    const { dataSource } = await this.shards.holdingOrder(id);
    const now = new Date();
    const order: Order = {
      id,
      customerId: request.customerId,
      strategy: request.strategy,
      status: 'PENDING',
      reason: null,
      items: unpriced(request.items),
      totalCents: null,
      createdAt: now,
      updatedAt: now,
    };
    const created = await dataSource.transaction(async (manager) => {
      if (!(await insertOrder(manager, order, idempotency))) return false;
      await this.flows.start(manager, order);
      return true;
    });
    if (created) {
      this.logger.log({ msg: `Order placed (${order.strategy})`, orderId: id });
      return toView(order, []);
    }
    const existing = await findOrder(dataSource.manager, id);
    if (!existing) throw new Error(`Order ${id} conflicted on insert but cannot be read`);
    return this.view(dataSource.manager, existing);
  }

  private async view(manager: EntityManager, order: Order): Promise<OrderView> {
    return toView(order, await this.flows.history(manager, order));
  }
}

function toView(order: Order, history: OrderView['history']): OrderView {
  return {
    id: order.id,
    customerId: order.customerId,
    strategy: order.strategy,
    status: order.status,
    reason: order.reason,
    items: order.items.map(({ sku, quantity, unitPriceCents }) => ({
      sku,
      quantity,
      unitPriceCents,
    })),
    totalCents: order.totalCents,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    history,
  };
}
