import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsNotEmpty, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { MAX_CENTS, MAX_UNITS, SKU_PATTERN, SKU_RULE } from './sku.js';

export class CreateProductDto {
  @ApiProperty({ example: 'SKU-COFFEE-1KG', pattern: SKU_PATTERN.source, description: SKU_RULE })
  @IsString()
  @Matches(SKU_PATTERN, { message: `sku must be ${SKU_RULE}` })
  sku: string;

  @ApiProperty({ example: 'Coffee beans 1 kg', minLength: 1, maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiProperty({
    type: 'integer',
    example: 4999,
    minimum: 1,
    maximum: MAX_CENTS,
    description: 'Unit price in cents (positive: the order service takes no price of 0)',
  })
  @IsInt()
  @Min(1)
  @Max(MAX_CENTS)
  priceCents: number;

  @ApiProperty({
    type: 'integer',
    example: 50,
    minimum: 0,
    maximum: MAX_UNITS,
    description: 'Units in stock',
  })
  @IsInt()
  @Min(0)
  @Max(MAX_UNITS)
  stock: number;
}

export class RestockDto {
  @ApiProperty({
    type: 'integer',
    example: 25,
    minimum: 1,
    maximum: MAX_UNITS,
    description: 'Units to add',
  })
  @IsInt()
  @Min(1)
  @Max(MAX_UNITS)
  quantity: number;
}

export class SkuParams {
  @ApiProperty({ example: 'SKU-COFFEE-1KG', pattern: SKU_PATTERN.source, description: SKU_RULE })
  @IsString()
  @Matches(SKU_PATTERN, { message: `sku must be ${SKU_RULE}` })
  sku: string;
}

/** A product as every endpoint answers it. available + reserved + sold = stock ever added. */
export class ProductDto {
  @ApiProperty({ example: 'SKU-COFFEE-1KG' })
  sku: string;

  @ApiProperty({ example: 'Coffee beans 1 kg' })
  name: string;

  @ApiProperty({ type: 'integer', example: 4999 })
  priceCents: number;

  @ApiProperty({ type: 'integer', example: 47, description: 'Units free to reserve' })
  available: number;

  @ApiProperty({ type: 'integer', example: 2, description: 'Units held by orders in progress' })
  reserved: number;

  @ApiProperty({ type: 'integer', example: 1, description: 'Units of completed orders' })
  sold: number;
}
