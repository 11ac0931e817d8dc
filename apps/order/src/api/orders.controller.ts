import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import {
  AllowCustomers,
  CurrentPrincipal,
  requireActsFor,
  type Principal,
} from '@app/dist-core/auth';
import { isSnowflakeId } from '@app/dist-core/snowflake';
import { CreateOrderDto } from './dto/create-order.dto.js';
import { DEFAULT_LIST_LIMIT, ListOrdersQuery } from './dto/list-orders.query.js';
import { ErrorView, OrderListView, OrderView } from './dto/order.view.js';
import { OrdersService } from './orders.service.js';

/** Printable ASCII without spaces: a UUID, a ULID or any client-made token fits. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * A customer's token may place and read that customer's orders; an operator's, anyone's
 * (CONTRACT.md "Identity and access").
 */
@ApiTags('orders')
@AllowCustomers()
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Place an order',
    description:
      'Stores the order (PENDING) and starts its saga or TCC transaction; answers without ' +
      'waiting for it. Poll GET /orders/{id} for COMPLETED or CANCELLED.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Retry-safe placement: the same key with the same body returns the same order; with ' +
      'another body, 422. 1-255 printable ASCII characters.',
    example: '8d0b6c1e-5a7f-4b8e-9d0c-3f2a1b4c5d6e',
  })
  @ApiAcceptedResponse({
    type: OrderView,
    description: 'The order, PENDING (or its current state, for a replayed key)',
    example: {
      id: '7399938409374388225',
      customerId: 'customer-42',
      strategy: 'saga',
      status: 'PENDING',
      reason: null,
      items: [{ sku: 'SKU-COFFEE-1KG', quantity: 2, unitPriceCents: null }],
      totalCents: null,
      createdAt: '2026-11-27T14:03:07.105Z',
      updatedAt: '2026-11-27T14:03:07.105Z',
      history: [],
    },
  })
  @ApiBadRequestResponse({ type: ErrorView, description: 'Invalid body or Idempotency-Key' })
  @ApiForbiddenResponse({ type: ErrorView, description: "A customer's token, another customerId" })
  @ApiPayloadTooLargeResponse({ type: ErrorView, description: 'Body over 64 KiB' })
  @ApiUnprocessableEntityResponse({
    type: ErrorView,
    description: 'The Idempotency-Key was used with another body',
    example: {
      statusCode: 422,
      error: 'Unprocessable Entity',
      message: 'Idempotency-Key was already used with a different request body',
    },
  })
  place(
    @CurrentPrincipal() caller: Principal,
    @Body() body: CreateOrderDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<OrderView> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new BadRequestException(
        'Idempotency-Key must be 1-255 printable ASCII characters without spaces',
      );
    }
    // After validation (CONTRACT.md's order of checks): from here on, a customer's order is
    // the token's customer's.
    requireActsFor(caller, body.customerId);
    const request = {
      customerId: body.customerId,
      items: body.items.map(({ sku, quantity }) => ({ sku, quantity })),
      strategy: body.strategy ?? 'saga',
    };
    return this.orders.place(request, idempotencyKey ?? null);
  }

  @Get()
  @ApiOperation({ summary: "A customer's orders, newest first (gathered from every shard)" })
  @ApiOkResponse({ type: OrderListView })
  @ApiBadRequestResponse({ type: ErrorView, description: 'Missing or invalid customerId or limit' })
  @ApiForbiddenResponse({ type: ErrorView, description: "A customer's token, another customerId" })
  async list(
    @CurrentPrincipal() caller: Principal,
    @Query() query: ListOrdersQuery,
  ): Promise<OrderListView> {
    requireActsFor(caller, query.customerId);
    return {
      items: await this.orders.listByCustomer(query.customerId, query.limit ?? DEFAULT_LIST_LIMIT),
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'An order, with the history of its flow' })
  @ApiParam({
    name: 'id',
    description: 'Snowflake id: a positive 64-bit integer in decimal',
    example: '7399938409374388225',
  })
  @ApiOkResponse({ type: OrderView })
  @ApiBadRequestResponse({ type: ErrorView, description: 'id is not a positive 64-bit decimal' })
  @ApiNotFoundResponse({ type: ErrorView, description: "No such order (or another customer's)" })
  get(@CurrentPrincipal() caller: Principal, @Param('id') id: string): Promise<OrderView> {
    if (!isSnowflakeId(id)) {
      throw new BadRequestException(
        'id must be a positive 64-bit integer in decimal (1 to 9223372036854775807, no sign or leading zeros)',
      );
    }
    return this.orders.get(id, caller);
  }
}
