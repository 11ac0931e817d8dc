import { Module } from '@nestjs/common';
import { ShardsModule } from '../shards/shards.module.js';
import { FlowMetrics } from './flow-metrics.js';
import { FlowRepliesMessageController } from './flow-replies.message.controller.js';
import { OrderFlows } from './order-flows.js';

/** The saga, TCC and 2PC coordination of orders: engines, recovery pollers, reply handlers. */
@Module({
  imports: [ShardsModule],
  controllers: [FlowRepliesMessageController],
  providers: [OrderFlows, FlowMetrics],
  exports: [OrderFlows],
})
export class FlowsModule {}
