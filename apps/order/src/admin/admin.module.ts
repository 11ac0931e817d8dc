import { Module } from '@nestjs/common';
import { ApiModule } from '../api/api.module.js';
import { FlowsModule } from '../flows/flows.module.js';
import { OrdersModule } from '../orders/orders.module.js';
import { ParkedSagasController } from './parked-sagas.controller.js';
import { RecentOrdersController } from './recent-orders.controller.js';

@Module({
  imports: [OrdersModule, FlowsModule, ApiModule],
  controllers: [ParkedSagasController, RecentOrdersController],
})
export class AdminModule {}
