import { Module } from '@nestjs/common';

/** Products, prices and stock reservations. */
@Module({})
export class InventoryModule {}
