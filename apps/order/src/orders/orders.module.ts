import { Module } from '@nestjs/common';
import { OrderMetrics } from './order-metrics.js';
import { OrderShards } from './order.store.js';

/** Orders as stored on their shards, and their metrics. Knows no flow and no API. */
@Module({
  providers: [OrderShards, OrderMetrics],
  exports: [OrderShards],
})
export class OrdersModule {}
