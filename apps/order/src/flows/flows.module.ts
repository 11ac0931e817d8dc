import { Module } from '@nestjs/common';
import { OrdersModule } from '../orders/orders.module.js';
import { FlowMetrics } from './flow-metrics.js';
import { FlowRepliesMessageController } from './flow-replies.message.controller.js';
import { OrderFlows } from './order-flows.js';

/** The saga, TCC and 2PC coordination of orders: engines, recovery pollers, reply handlers. */
@Module({
  imports: [OrdersModule],
  controllers: [FlowRepliesMessageController],
  providers: [OrderFlows, FlowMetrics],
  exports: [OrderFlows],
})
export class FlowsModule {}
