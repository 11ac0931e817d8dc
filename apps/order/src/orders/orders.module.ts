import { Module } from '@nestjs/common';
import { FlowsModule } from '../flows/flows.module.js';
import { ShardsModule } from '../shards/shards.module.js';
import { OrderMetrics } from './order-metrics.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';

/** The orders REST API: placing (idempotently), reading, listing; and their metrics. */
@Module({
  imports: [ShardsModule, FlowsModule],
  controllers: [OrdersController],
  providers: [OrdersService, OrderMetrics],
  exports: [OrdersService],
})
export class OrdersModule {}
