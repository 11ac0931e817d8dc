import { Module } from '@nestjs/common';
import { AdminModule } from './admin/admin.module.js';
import { FlowsModule } from './flows/flows.module.js';
import { OrdersModule } from './orders/orders.module.js';

/** Orders and their coordination (saga and TCC). */
@Module({ imports: [OrdersModule, FlowsModule, AdminModule] })
export class OrderModule {}
