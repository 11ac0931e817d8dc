import { Module } from '@nestjs/common';
import { ProductsModule } from './products/products.module.js';

/** Products, prices and stock reservations. */
@Module({ imports: [ProductsModule] })
export class InventoryModule {}
