import { DEFAULTS, env, sharedConfig, type ConfigOf } from '@app/dist-core/config';

/** The payment service's configuration: CONTRACT.md variable names, validated at start. */
export const paymentConfig = {
  ...sharedConfig('payment'),
  PAYMENT_PORT: env.port(DEFAULTS.PAYMENT_PORT),
  PAYMENT_DB_URL: env.postgresUrl(DEFAULTS.PAYMENT_DB_URL),
};

export type PaymentConfig = ConfigOf<typeof paymentConfig>;
