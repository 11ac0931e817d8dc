import { Module } from '@nestjs/common';
import { ShardsModule } from '../shards/shards.module.js';
import { FlowRepliesController } from './flow-replies.controller.js';
import { OrderFlows } from './order-flows.js';

/** The saga and TCC coordination of orders: engines, recovery pollers, reply handlers. */
@Module({
  imports: [ShardsModule],
  controllers: [FlowRepliesController],
  providers: [OrderFlows],
  exports: [OrderFlows],
})
export class FlowsModule {}
