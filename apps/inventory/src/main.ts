import { bootstrapService } from '@app/dist-core/bootstrap';
import { inventoryConfig } from './config.js';
import { InventoryModule } from './inventory.module.js';

await bootstrapService({
  name: 'inventory',
  description: 'Products, prices and stock: reserves, confirms and releases stock for orders',
  module: InventoryModule,
  config: inventoryConfig,
  httpPort: (config) => config.INVENTORY_PORT,
  postgres: (config) => [{ name: 'inventory', url: config.INVENTORY_DB_URL }],
});
