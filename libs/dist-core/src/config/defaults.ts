import { deploymentNameProblem } from '../kafka/deployment.js';
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
} as const;

/** The variables every service reads: its Kafka brokers and the Redlock quorum. */
export const sharedConfig = {
  /**
   * Prefixes every Kafka topic and consumer group (kafka/deployment.ts), so two stacks can
   * share a cluster. Empty (the default): the plain names.
   */
  DEPLOYMENT: env.name('', deploymentNameProblem),
  KAFKA_BROKERS: env.hostPorts(DEFAULTS.KAFKA_BROKERS),
  REDIS_NODES: env.redisUrls(DEFAULTS.REDIS_NODES),
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
