import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AllowCustomers } from '@app/dist-core/auth';
import { CreateProductDto, ProductDto, RestockDto, SkuParams } from './product.dto.js';
import { ProductsService } from './products.service.js';

/** Operators create and restock products; anyone with a token may read one. */
@ApiTags('products')
@Controller('products')
export class ProductsController {
  constructor(private readonly products: ProductsService) {}

  @Post()
  @ApiOperation({ summary: 'Creates a product with its price and initial stock' })
  @ApiCreatedResponse({ type: ProductDto, description: 'The new product' })
  @ApiBadRequestResponse({ description: 'A field is missing, of the wrong type or out of range' })
  @ApiConflictResponse({ description: 'A product with this SKU exists' })
  create(@Body() body: CreateProductDto): Promise<ProductDto> {
    return this.products.create(body);
  }

  @Get(':sku')
  @AllowCustomers()
  @ApiOperation({ summary: 'A product with its price and stock figures' })
  @ApiOkResponse({ type: ProductDto, description: 'The product' })
  @ApiBadRequestResponse({ description: 'The SKU has illegal characters or length' })
  @ApiNotFoundResponse({ description: 'No product has this SKU' })
  get(@Param() params: SkuParams): Promise<ProductDto> {
    return this.products.get(params.sku);
  }

  @Post(':sku/restock')
  @HttpCode(200)
  @ApiOperation({ summary: 'Adds units to the available stock' })
  @ApiOkResponse({ type: ProductDto, description: 'The product' })
  @ApiBadRequestResponse({ description: 'The SKU or the quantity is invalid' })
  @ApiNotFoundResponse({ description: 'No product has this SKU' })
  @ApiConflictResponse({ description: 'The stock would exceed 2^53 - 1 units' })
  restock(@Param() params: SkuParams, @Body() body: RestockDto): Promise<ProductDto> {
    return this.products.restock(params.sku, body.quantity);
  }
}
