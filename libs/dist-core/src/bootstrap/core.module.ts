import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard, TokenVerifier, type AuthSettings } from '../auth/index.js';
import type { ConfigOf, EnvSchema } from '../config/index.js';
import { KafkaClient } from '../kafka/index.js';
import {
  ConsumerGroupStatus,
  consumerAssignmentCollector,
} from '../kafka/consumer-group-status.js';
import { MetricsController, ServiceMetrics } from '../metrics/index.js';
import {
  afterCommitPublisherProvider,
  outboxBacklogCollector,
  outboxRelaysProvider,
} from '../outbox/index.js';
import { Redlock } from '../redlock/index.js';
import { RetentionPurge } from '../retention/index.js';
import { ServiceIds } from './service-ids.js';
import { HealthController } from './health.controller.js';
import { InfrastructureShutdown } from './infrastructure-shutdown.js';
import { PostgresDatabases } from './postgres-databases.js';
import { RedisNodes } from './redis-nodes.js';
import { rateLimitGuard, rateLimitModule, type RateLimitConfig } from './rate-limit.js';
import { waitFor } from './wait-for.js';
import { SERVICE_CONFIG, SERVICE_NAME, type ServiceSpec } from './service-spec.js';

/** How long a service waits at start for a server that does not answer yet. */
const STARTUP_TIMEOUT_MS = 120_000;

type SharedConfig = RateLimitConfig &
  AuthSettings & {
    KAFKA_BROKERS: string[];
    KAFKA_USERNAME: string;
    KAFKA_PASSWORD: string;
    REDIS_NODES: string[];
    DEPLOYMENT: string;
    RETENTION_HOURS: number;
    PURGE_INTERVAL_SECONDS: number;
  };

/**
 * What every service has, provided once: its validated configuration, its Postgres
 * databases, the Redis nodes, the Kafka client, the token check in front of every route,
 * GET /health, GET /metrics, the POST rate limits, the purge of old rows, and the ordered
 * shutdown.
 */
@Global()
@Module({})
export class CoreModule {
  static forService<S extends EnvSchema>(spec: ServiceSpec<S>, config: ConfigOf<S>): DynamicModule {
    const shared = config as unknown as SharedConfig;
    return {
      module: CoreModule,
      imports: [rateLimitModule(shared)],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        { provide: SERVICE_NAME, useValue: spec.name },
        {
          provide: PostgresDatabases,
          useFactory: async () => {
            const databases = new PostgresDatabases(spec.postgres(config), {
              poolSize: 5,
              startupTimeoutMs: STARTUP_TIMEOUT_MS,
            });
            await databases.initialize();
            return databases;
          },
        },
        {
          provide: RedisNodes,
          useFactory: () => new RedisNodes(shared.REDIS_NODES),
        },
        {
          provide: Redlock,
          inject: [RedisNodes],
          useFactory: (redis: RedisNodes) => new Redlock(redis.clients),
        },
        {
          provide: ServiceIds,
          inject: [Redlock],
          useFactory: (redlock: Redlock) => ServiceIds.start(redlock, STARTUP_TIMEOUT_MS),
        },
        {
          provide: KafkaClient,
          useFactory: async () => {
            const kafka = new KafkaClient({
              clientId: spec.name,
              brokers: shared.KAFKA_BROKERS,
              credentials: { username: shared.KAFKA_USERNAME, password: shared.KAFKA_PASSWORD },
              deployment: shared.DEPLOYMENT,
            });
            await waitFor(`Kafka at ${shared.KAFKA_BROKERS.join(',')}`, STARTUP_TIMEOUT_MS, () =>
              kafka.connect(),
            );
            return kafka;
          },
        },
        {
          provide: TokenVerifier,
          useFactory: () =>
            waitFor(`the identity issuer ${shared.AUTH_ISSUER}`, STARTUP_TIMEOUT_MS, () =>
              TokenVerifier.connect(shared),
            ),
        },
        // Every route is operator-only unless marked @Public() or @AllowCustomers().
        { provide: APP_GUARD, useClass: AuthGuard },
        ConsumerGroupStatus,
        {
          provide: ServiceMetrics,
          inject: [PostgresDatabases, ConsumerGroupStatus],
          useFactory: (databases: PostgresDatabases, consumer: ConsumerGroupStatus) => {
            const metrics = new ServiceMetrics(spec.name);
            metrics.onScrape('outbox backlog', outboxBacklogCollector(databases));
            metrics.onScrape('consumer assignment', consumerAssignmentCollector(consumer));
            return metrics;
          },
        },
        outboxRelaysProvider(PostgresDatabases),
        afterCommitPublisherProvider(PostgresDatabases),
        {
          provide: RetentionPurge,
          inject: [PostgresDatabases],
          useFactory: (databases: PostgresDatabases) =>
            new RetentionPurge(databases.all(), {
              retentionMs: shared.RETENTION_HOURS * 3_600_000,
              intervalMs: shared.PURGE_INTERVAL_SECONDS * 1000,
            }),
        },
        InfrastructureShutdown,
        rateLimitGuard(),
      ],
      exports: [
        SERVICE_CONFIG,
        SERVICE_NAME,
        PostgresDatabases,
        RedisNodes,
        Redlock,
        ServiceIds,
        KafkaClient,
        ServiceMetrics,
      ],
    };
  }
}
