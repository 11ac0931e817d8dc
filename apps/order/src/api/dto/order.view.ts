import { ApiProperty } from '@nestjs/swagger';
import { ORDER_STRATEGIES } from '../../orders/order.js';

/** The order as the API shows it (CONTRACT.md); Swagger documents these classes. */

export class OrderItemView {
  @ApiProperty({ example: 'SKU-COFFEE-1KG' })
  sku!: string;

  @ApiProperty({ type: 'integer', example: 2 })
  quantity!: number;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 1250,
    description: "Inventory's price when the order was placed; null until inventory priced it",
  })
  unitPriceCents!: number | null;
}

export class OrderHistoryView {
  @ApiProperty({
    example: 'reserveStock',
    description:
      'A saga step (reserveStock, takePayment, confirmStock; `<step>.compensation` for its undo) ' +
      'or a TCC branch operation (inventory.try, payment.confirm, …)',
  })
  step!: string;

  @ApiProperty({ example: 'SUCCESS', enum: ['SUCCESS', 'FAILURE', 'TIMEOUT', 'PARKED', 'RESUMED'] })
  outcome!: string;

  @ApiProperty({ type: String, nullable: true, example: null })
  reason!: string | null;

  @ApiProperty({ example: '2026-11-27T14:03:07.412Z' })
  at!: string;
}

export class OrderView {
  @ApiProperty({ example: '7399938409374388225', description: 'Snowflake id, a decimal string' })
  id!: string;

  @ApiProperty({ example: 'customer-42' })
  customerId!: string;

  @ApiProperty({ enum: ORDER_STRATEGIES, example: 'saga' })
  strategy!: string;

  @ApiProperty({ enum: ['PENDING', 'COMPLETED', 'CANCELLED'], example: 'COMPLETED' })
  status!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    enum: ['OUT_OF_STOCK', 'INSUFFICIENT_FUNDS', 'UNKNOWN_PRODUCT', 'UNKNOWN_CUSTOMER', 'TIMEOUT'],
    example: null,
    description: 'Null unless CANCELLED',
  })
  reason!: string | null;

  @ApiProperty({ type: [OrderItemView] })
  items!: OrderItemView[];

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 2500,
    description: 'Σ quantity × unitPriceCents; null until priced',
  })
  totalCents!: number | null;

  @ApiProperty({ example: '2026-11-27T14:03:07.105Z' })
  createdAt!: string;

  @ApiProperty({ example: '2026-11-27T14:03:07.689Z' })
  updatedAt!: string;

  @ApiProperty({
    type: [OrderHistoryView],
    example: [
      { step: 'reserveStock', outcome: 'SUCCESS', reason: null, at: '2026-11-27T14:03:07.412Z' },
      { step: 'takePayment', outcome: 'SUCCESS', reason: null, at: '2026-11-27T14:03:07.561Z' },
      { step: 'confirmStock', outcome: 'SUCCESS', reason: null, at: '2026-11-27T14:03:07.689Z' },
    ],
  })
  history!: OrderHistoryView[];
}

export class OrderListView {
  @ApiProperty({ type: [OrderView], description: 'Newest first' })
  items!: OrderView[];
}

export class ErrorView {
  @ApiProperty({ type: 'integer', example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request' })
  error!: string;

  @ApiProperty({ example: 'items.0.quantity must not be greater than 10000' })
  message!: string;
}
