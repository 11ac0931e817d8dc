import { bootstrapService } from '@app/dist-core/bootstrap';
import { orderFlowMessages, TOPICS } from '@app/order-flow-api';
import { messagesOn } from '@app/dist-core/kafka';
import { tccBarrierMigrations, tccBarrierRetention } from '@app/dist-core/tcc';
import { twoPcParticipantMigrations, twoPcParticipantRetention } from '@app/dist-core/twopc';
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
      migrations: [...tccBarrierMigrations, ...twoPcParticipantMigrations, ...inventoryMigrations],
      retention: [tccBarrierRetention, ...twoPcParticipantRetention],
    },
  ],
  // Its commands, decisions and replies only: its Kafka principal may not see the other topics.
  messages: messagesOn(orderFlowMessages, [
    TOPICS.inventoryCommands,
    TOPICS.inventoryDecisions,
    TOPICS.inventoryReplies,
  ]),
  // 2PC's commit and rollback free the row locks a prepare may be waiting for: never queued
  // behind that prepare on the commands topic's consumer.
  separateConsumers: [{ consumer: 'decisions', topics: [TOPICS.inventoryDecisions] }],
});
