import { bootstrapService } from '@app/dist-core/bootstrap';
import { orderFlowMessages, TOPICS } from '@app/order-flow-api';
import { messagesOn } from '@app/dist-core/kafka';
import { tccBarrierMigrations, tccBarrierRetention } from '@app/dist-core/tcc';
import { inventoryConfig } from './config.js';
import { InventoryModule } from './inventory.module.js';
import { inventoryMigrations } from './products/inventory.migrations.js';

await bootstrapService({
  name: 'inventory',
  description: 'Products, prices and stock: reserves, confirms and releases stock for orders',
  module: InventoryModule,
  config: inventoryConfig,
  httpPort: (config) => config.INVENTORY_PORT,
  postgres: (config) => [
    {
      name: 'inventory',
      url: config.INVENTORY_DB_URL,
      migrations: [...tccBarrierMigrations, ...inventoryMigrations],
      retention: [tccBarrierRetention],
    },
  ],
  // Its commands and its replies only: its Kafka principal may not see the other topics.
  messages: messagesOn(orderFlowMessages, [TOPICS.inventoryCommands, TOPICS.inventoryReplies]),
});
