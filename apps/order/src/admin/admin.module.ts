import { Module } from '@nestjs/common';
import { FlowsModule } from '../flows/flows.module.js';
import { OrdersModule } from '../orders/orders.module.js';
import { ShardsModule } from '../shards/shards.module.js';
import { ParkedSagasController } from './parked-sagas.controller.js';
import { RecentOrdersController } from './recent-orders.controller.js';

@Module({
  imports: [ShardsModule, FlowsModule, OrdersModule],
  controllers: [ParkedSagasController, RecentOrdersController],
})
export class AdminModule {}
