import { Module } from '@nestjs/common';
import { FlowsModule } from '../flows/flows.module.js';
import { OrdersModule } from '../orders/orders.module.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';

/** The orders REST API: placing (idempotently, starting the order's flow), reading, listing. */
@Module({
  imports: [FlowsModule, OrdersModule],
  controllers: [OrdersController],
  providers: [OrdersService],
  exports: [OrdersService],
})
export class ApiModule {}
