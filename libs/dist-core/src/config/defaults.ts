import { LOG_LEVELS } from '../observability/logger.js';
import { env } from './env-schema.js';
import { localSecret, requireLocalSecret } from './local-secrets.js';

/**
 * Defaults of the CONTRACT.md variables: the native infrastructure `npm run infra:up` starts
 * on 127.0.0.1, so a service started with no environment at all just works.
 *
 * The URLs carry credentials, which infra:up generates (scripts/infra/lib.sh, `secret`): each
 * service connects as its own Postgres role, the owner of its databases and of nothing else,
 * and to Redis with the nodes' password. Those defaults are functions of the environment, read
 * when the configuration is loaded (the secrets' folder may be moved by SECRETS_DIR or
 * INFRA_DIR); with no secret there is no default, and start-up stops with one line naming the
 * variable.
 */
const POSTGRES_HOST = '127.0.0.1:5432';
const REDIS_PORTS = [6379, 6380, 6381];

/** The local secret, escaped for a URL's userinfo; throws the reason when it does not exist. */
function secretForUrl(name: string, source: NodeJS.ProcessEnv): string {
  return encodeURIComponent(requireLocalSecret(name, source));
}

/** The service's databases on the native server, as the role of the same name. */
function databaseUrls(role: string, databases: readonly string[]) {
  return (source: NodeJS.ProcessEnv = process.env): string => {
    const password = secretForUrl(`postgres-${role}`, source);
    return databases
      .map((database) => `postgres://${role}:${password}@${POSTGRES_HOST}/${database}`)
      .join(',');
  };
}

export const DEFAULTS = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  /**
   * The nodes infra:up starts require the password; a node it reuses (6379 on dev and CI
   * machines) may have none, and then ioredis sends it, gets an error and carries on.
   */
  REDIS_NODES: (source: NodeJS.ProcessEnv = process.env): string => {
    // What infra:up found (scripts/infra/redis.sh record-urls): the password only where asked.
    const recorded = localSecret('redis-nodes', source);
    if (recorded !== undefined) return recorded;
    const password = secretForUrl('redis', source);
    return REDIS_PORTS.map((port) => `redis://:${password}@127.0.0.1:${port}`).join(',');
  },
  ORDER_DB_SHARDS: databaseUrls('order', ['orders_0', 'orders_1', 'orders_2']),
  PAYMENT_DB_URL: databaseUrls('payment', ['payment']),
  INVENTORY_DB_URL: databaseUrls('inventory', ['inventory']),
  ORDER_PORT: 3000,
  PAYMENT_PORT: 3001,
  INVENTORY_PORT: 3002,
  HOST: '127.0.0.1',
  AUTH_ISSUER: 'http://127.0.0.1:3004',
  AUTH_AUDIENCE: 'orders-api',
} as const;

/** Letters, digits and `-`: no `.` or `_`, which Kafka treats as the same in metric names. */
const DEPLOYMENT_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** The reason a DEPLOYMENT value is unusable, or undefined when it is fine (empty included). */
export function deploymentNameProblem(deployment: string): string | undefined {
  if (deployment === '' || DEPLOYMENT_NAME.test(deployment)) return undefined;
  return 'must be empty or 1-32 of a-z, 0-9 and -, starting and ending with a letter or digit';
}

/**
 * The variables every service reads: its Kafka brokers and principal, the Redlock quorum, the
 * issuer whose access tokens it accepts, and its HTTP limits. `service` (order, payment,
 * inventory) is the default Kafka principal, whose password is the local secret
 * `kafka-<service>`.
 */
export function sharedConfig(service: string) {
  return {
    /**
     * Prefixes every Kafka topic and consumer group (kafka/deployment.ts), so two stacks can
     * share a cluster. Empty (the default): the plain names.
     */
    DEPLOYMENT: env.name('', deploymentNameProblem),
    KAFKA_BROKERS: env.hostPorts(DEFAULTS.KAFKA_BROKERS),
    /** The SASL/SCRAM principal the service signs in to Kafka as. */
    KAFKA_USERNAME: env.text(service),
    KAFKA_PASSWORD: env.secret(`kafka-${service}`),
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
    /** The address the HTTP server binds: loopback natively, 0.0.0.0 in containers (Dockerfile). */
    HOST: env.host(DEFAULTS.HOST),
    /**
     * POST requests one client may make to one endpoint per window, before 429. Generous: the
     * benchmark's 64 customers in a closed loop, from one address, stay far below it.
     */
    RATE_LIMIT_POSTS: env.integer(2_000, 1, 1_000_000),
    /**
     * Messages of one partition that the Kafka consumer handles in one local transaction, each
     * under a savepoint, at most (kafka/message-batches.ts); 1 runs each in its own. Off (1) by
     * default: measured on and off back to back, batching cost 5–13 % of orders/s at 16 and 64
     * orders in flight here (bench/results/NOTES.md, round 8).
     */
    CONSUMER_BATCH_MAX_MESSAGES: env.integer(1, 1, 1_000),
    /** How long, in ms, such a batch takes new messages before it commits. */
    CONSUMER_BATCH_MAX_MS: env.integer(50, 1, 10_000),
    RATE_LIMIT_WINDOW_SECONDS: env.integer(10, 1, 86_400),
    /**
     * How long inbox rows, barrier rows and idempotency keys are kept (see retention/). At least
     * 24 h: an Idempotency-Key is honoured for 24 h, and its row must live that long.
     */
    RETENTION_HOURS: env.integer(168, 24, 87_600),
    /** How often each service purges rows past the retention. */
    PURGE_INTERVAL_SECONDS: env.integer(3_600, 1, 86_400),
  };
}

/** A URL fit for logs and health keys: the password replaced. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
