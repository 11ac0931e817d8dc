import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Public } from '../auth/index.js';
import { ConsumerGroupStatus, KafkaClient } from '../kafka/index.js';
import { PostgresDatabases } from './postgres-databases.js';
import { RedisNodes } from './redis-nodes.js';

const PROBE_TIMEOUT_MS = 1500;

/**
 * GET /health: every dependency of this service, each probed with a timeout — every Postgres
 * database (every order shard), Kafka and this process's membership of its consumer group,
 * every Redis node of the Redlock quorum. 200 when all
 * answer; 503 whose message names each one that does not.
 */
@ApiTags('health')
@Public() // probes (docker, Kubernetes, load balancers) carry no token
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly postgres: PostgresDatabases,
    private readonly redis: RedisNodes,
    private readonly kafka: KafkaClient,
    private readonly consumer: ConsumerGroupStatus,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Reports each dependency: Postgres databases, Kafka, Redis nodes' })
  async check() {
    const probes = [
      ...this.postgres.all().map(({ name, dataSource }) =>
        this.probe(`postgres:${name}`, async () => {
          await dataSource.query('SELECT 1');
        }),
      ),
      this.probe('kafka', () => this.kafka.ping()),
      this.probe('kafka:consumer', async () => {
        if (!this.consumer.ready) throw new Error(this.consumer.describe());
        return { group: this.consumer.describe() };
      }),
      ...this.redis.clients.map((client, index) =>
        this.probe(`redis:${this.redis.label(index)}`, async () => {
          await client.ping();
        }),
      ),
    ];
    try {
      return await this.health.check(probes);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as { error?: Record<string, { message?: string }> };
      const down = Object.entries(result.error ?? {}).map(
        ([key, detail]) => `${key}${detail.message ? ` (${detail.message})` : ''}`,
      );
      throw new ServiceUnavailableException({
        message: `Unavailable: ${down.join(', ')}`,
        details: result,
      });
    }
  }

  private probe(key: string, fn: () => Promise<unknown>) {
    return this.indicators
      .check(key)
      .attempt(async () => {
        const data = await fn();
        return typeof data === 'object' && data !== null
          ? (data as Record<string, unknown>)
          : undefined;
      })
      .withTimeout(PROBE_TIMEOUT_MS);
  }
}
