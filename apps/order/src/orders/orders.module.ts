import { Module } from '@nestjs/common';
import { ShardsModule } from '../shards/shards.module.js';
import { OrderMetrics } from './order-metrics.js';

/** Orders as stored on their shards, and their metrics. Knows no flow and no API. */
@Module({
  imports: [ShardsModule],
  providers: [OrderMetrics],
})
export class OrdersModule {}
