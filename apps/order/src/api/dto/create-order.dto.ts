import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsString,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { ORDER_STRATEGIES, type OrderStrategy } from '../../orders/order.js';

/** sku and customerId everywhere (CONTRACT.md): 1–64 characters of [A-Za-z0-9._-]. */
export const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const NAME_RULE = 'must be 1-64 characters of A-Z, a-z, 0-9, ".", "_" or "-"';

export const MAX_ORDER_LINES = 100;
export const MAX_QUANTITY = 10_000;

/**
 * No two lines with the same sku. Only judges arrays of lines with string skus: a value that is
 * not an array, or a line without a valid sku, is reported by its own rule, not twice.
 */
function DistinctSkus() {
  return ValidateBy({
    name: 'distinctSkus',
    validator: {
      validate(items: unknown) {
        if (!Array.isArray(items)) return true;
        const skus = items
          .map((line: { sku?: unknown } | null) => line?.sku)
          .filter((sku) => typeof sku === 'string');
        return new Set(skus).size === skus.length;
      },
      defaultMessage: () => 'items must not contain the same sku twice',
    },
  });
}

export class OrderLineDto {
  @ApiProperty({ example: 'SKU-COFFEE-1KG', pattern: NAME_PATTERN.source })
  @IsString()
  @Matches(NAME_PATTERN, { message: `$property ${NAME_RULE}` })
  sku!: string;

  @ApiProperty({ type: 'integer', example: 2, minimum: 1, maximum: MAX_QUANTITY })
  @IsInt()
  @Min(1)
  @Max(MAX_QUANTITY)
  quantity!: number;
}

export class CreateOrderDto {
  @ApiProperty({ example: 'customer-42', pattern: NAME_PATTERN.source })
  @IsString()
  @Matches(NAME_PATTERN, { message: `$property ${NAME_RULE}` })
  customerId!: string;

  @ApiProperty({
    type: [OrderLineDto],
    minItems: 1,
    maxItems: MAX_ORDER_LINES,
    description: 'Distinct SKUs',
    example: [
      { sku: 'SKU-COFFEE-1KG', quantity: 2 },
      { sku: 'SKU-FILTER-100', quantity: 1 },
    ],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ORDER_LINES)
  @DistinctSkus()
  @ValidateNested({ each: true })
  @Type(() => OrderLineDto)
  items!: OrderLineDto[];

  @ApiPropertyOptional({ enum: ORDER_STRATEGIES, default: 'saga', example: 'saga' })
  // Absent means saga; null is a wrong type, not absence (which @IsOptional would let through).
  @ValidateIf((body: { strategy?: unknown }) => body.strategy !== undefined)
  @IsIn(ORDER_STRATEGIES)
  strategy?: OrderStrategy;
}
