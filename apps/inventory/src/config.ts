import { DEFAULTS, env, sharedConfig, type ConfigOf } from '@app/dist-core/config';

/** The inventory service's configuration: CONTRACT.md variable names, validated at start. */
export const inventoryConfig = {
  ...sharedConfig('inventory'),
  INVENTORY_PORT: env.port(DEFAULTS.INVENTORY_PORT),
  INVENTORY_DB_URL: env.postgresUrl(DEFAULTS.INVENTORY_DB_URL),
};

export type InventoryConfig = ConfigOf<typeof inventoryConfig>;
