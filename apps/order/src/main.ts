import { bootstrapService } from '@app/dist-core/bootstrap';
import { orderFlowMessages } from '@app/order-flow-api';
import { sagaMigrations } from '@app/dist-core/saga';
import { tccCoordinatorMigrations } from '@app/dist-core/tcc';
import { orderConfig } from './config.js';
import { OrderModule } from './order.module.js';
import { idempotencyKeyRetention, orderMigrations } from './orders/order.migrations.js';
import { orderShardDatabase, orderShardUrls } from './orders/order.store.js';

await bootstrapService({
  name: 'order',
  description: 'Places orders and carries each through a saga or a TCC transaction',
  module: OrderModule,
  config: orderConfig,
  httpPort: (config) => config.ORDER_PORT,
  // Every shard has the same tables: an order, its saga or TCC log and their outbox rows live
  // together on the order's shard, so placing an order is one local transaction.
  postgres: (config) =>
    orderShardUrls(config).map((url, shard) => ({
      name: orderShardDatabase(shard),
      url,
      migrations: [...orderMigrations, ...sagaMigrations, ...tccCoordinatorMigrations],
      retention: [idempotencyKeyRetention],
    })),
  messages: orderFlowMessages,
});
