import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DEFAULT_LIST_LIMIT, ListLimitQuery } from '../api/dto/list-orders.query.js';
import { ErrorView, OrderListView } from '../api/dto/order.view.js';
import { OrdersService } from '../api/orders.service.js';

/**
 * The newest orders of every customer, for an operator (the /ui page's list). Kept apart from
 * `GET /orders`, whose customerId is required by the contract: a customer-facing list never
 * shows other customers' orders.
 */
@ApiTags('admin')
@Controller('admin/orders')
export class RecentOrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get()
  @ApiOperation({ summary: 'The newest orders of all customers, gathered from every shard' })
  @ApiOkResponse({ type: OrderListView })
  @ApiBadRequestResponse({ type: ErrorView, description: 'Invalid limit' })
  async recent(@Query() query: ListLimitQuery): Promise<OrderListView> {
    return { items: await this.orders.listRecent(query.limit ?? DEFAULT_LIST_LIMIT) };
  }
}
