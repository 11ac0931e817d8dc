import { Module } from '@nestjs/common';
import { AdminModule } from './admin/admin.module.js';
import { ApiModule } from './api/api.module.js';
import { FlowsModule } from './flows/flows.module.js';
import { OrdersModule } from './orders/orders.module.js';
import { UiModule } from './ui/ui.module.js';

/** The API over orders and their coordination (saga and TCC), the operator's endpoints and the /ui page. */
@Module({ imports: [ApiModule, OrdersModule, FlowsModule, AdminModule, UiModule] })
export class OrderModule {}
