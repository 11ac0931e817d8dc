import { DEFAULTS, env, sharedConfig, type ConfigOf } from '@app/dist-core/config';

/** The order service's configuration: CONTRACT.md variable names, validated at start. */
export const orderConfig = {
  ...sharedConfig,
  ORDER_PORT: env.port(DEFAULTS.ORDER_PORT),
  ORDER_DB_SHARDS: env.postgresUrls(DEFAULTS.ORDER_DB_SHARDS),
};

export type OrderConfig = ConfigOf<typeof orderConfig>;
