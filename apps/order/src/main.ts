import { bootstrapService } from '@app/dist-core/bootstrap';
import { orderConfig } from './config.js';
import { OrderModule } from './order.module.js';

await bootstrapService({
  name: 'order',
  description: 'Places orders and carries each through a saga or a TCC transaction',
  module: OrderModule,
  config: orderConfig,
  httpPort: (config) => config.ORDER_PORT,
  postgres: (config) =>
    config.ORDER_DB_SHARDS.map((url, shard) => ({ name: `orders_${shard}`, url })),
});
