import { LOG_LEVELS } from '../observability/logger.js';
import { env } from './env-schema.js';

/**
 * Defaults of the CONTRACT.md variables: the native infrastructure `npm run infra:up` starts
 * on 127.0.0.1, so a service started with no environment at all just works.
 */
const PG = 'postgres://app:app@127.0.0.1:5432';

export const DEFAULTS = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  REDIS_NODES: 'redis://127.0.0.1:6379,redis://127.0.0.1:6380,redis://127.0.0.1:6381',
  ORDER_DB_SHARDS: `${PG}/orders_0,${PG}/orders_1,${PG}/orders_2`,
  PAYMENT_DB_URL: `${PG}/payment`,
  INVENTORY_DB_URL: `${PG}/inventory`,
  ORDER_PORT: 3000,
  PAYMENT_PORT: 3001,
  INVENTORY_PORT: 3002,
  AUTH_ISSUER: 'http://127.0.0.1:3004',
  AUTH_AUDIENCE: 'orders-api',
} as const;

/**
 * The variables every service reads: its Kafka brokers, the Redlock quorum and the issuer whose
 * access tokens it accepts.
 */
export const sharedConfig = {
  KAFKA_BROKERS: env.hostPorts(DEFAULTS.KAFKA_BROKERS),
  REDIS_NODES: env.redisUrls(DEFAULTS.REDIS_NODES),
  /** The OpenID Connect issuer: tokens must name it as `iss`; its discovery document is read at start. */
  AUTH_ISSUER: env.httpUrl(DEFAULTS.AUTH_ISSUER),
  /** The `aud` an access token must carry to be accepted here. */
  AUTH_AUDIENCE: env.word(DEFAULTS.AUTH_AUDIENCE),
  /**
   * Where the issuer's signing keys are fetched. Unset: the discovery document's `jwks_uri`.
   * Set where the services reach the issuer under another host name than the one in `iss`
   * (docker compose: the browser's 127.0.0.1 is not the issuer's container); discovery is then
   * skipped.
   */
  AUTH_JWKS_URL: env.optionalHttpUrl(),
  /** Pins the Snowflake worker id (0-1023) for debugging; it is still leased. Unset: any free id. */
  SNOWFLAKE_WORKER_ID: env.optionalInteger(0, 1023),
  /** The least severe level written to stdout (JSON lines). */
  LOG_LEVEL: env.oneOf(LOG_LEVELS, 'info'),
};

/** A URL fit for logs and health keys: the password replaced. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
