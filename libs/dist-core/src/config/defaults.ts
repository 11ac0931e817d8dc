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
  HOST: '127.0.0.1',
  AUTH_ISSUER: 'http://127.0.0.1:3004',
} as const;

/** The variables every service reads: its Kafka brokers and the Redlock quorum. */
export const sharedConfig = {
  KAFKA_BROKERS: env.hostPorts(DEFAULTS.KAFKA_BROKERS),
  REDIS_NODES: env.redisUrls(DEFAULTS.REDIS_NODES),
  /** Pins the Snowflake worker id (0-1023) for debugging; it is still leased. Unset: any free id. */
  SNOWFLAKE_WORKER_ID: env.optionalInteger(0, 1023),
  /** The least severe level written to stdout (JSON lines). */
  LOG_LEVEL: env.oneOf(LOG_LEVELS, 'info'),
  /** The address the HTTP server binds: loopback natively, 0.0.0.0 in containers (Dockerfile). */
  HOST: env.host(DEFAULTS.HOST),
  /** The OpenID Connect issuer: the /ui page's CSP lets the browser reach it (token exchange). */
  AUTH_ISSUER: env.httpUrl(DEFAULTS.AUTH_ISSUER),
  /**
   * POST requests one client may make to one endpoint per window, before 429. Generous: the
   * benchmark's 64 customers in a closed loop, from one address, stay far below it.
   */
  RATE_LIMIT_POSTS: env.integer(2_000, 1, 1_000_000),
  RATE_LIMIT_WINDOW_SECONDS: env.integer(10, 1, 86_400),
  /**
   * How long inbox rows, barrier rows and idempotency keys are kept (see retention/). At least
   * 24 h: an Idempotency-Key is honoured for 24 h, and its row must live that long.
   */
  RETENTION_HOURS: env.integer(168, 24, 87_600),
  /** How often each service purges rows past the retention. */
  PURGE_INTERVAL_SECONDS: env.integer(3_600, 1, 86_400),
};

/** A URL fit for logs and health keys: the password replaced. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
