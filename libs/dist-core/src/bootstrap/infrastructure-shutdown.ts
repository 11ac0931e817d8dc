import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { KafkaClient } from '../kafka/index.js';
import { shutdownTracing } from '../observability/index.js';
import { PostgresDatabases } from './postgres-databases.js';
import { RedisNodes } from './redis-nodes.js';
import { ServiceIds } from './service-ids.js';

/**
 * Closes the shared connections in one explicit order. Nest closes the HTTP server and the
 * Kafka consumer (the microservice) before it calls this hook, so no new work arrives; then
 * the producer flushes, then the database pools and the Redis clients go, and the spans left
 * are exported.
 */
@Injectable()
export class InfrastructureShutdown implements OnApplicationShutdown {
  private readonly log = new Logger(InfrastructureShutdown.name);

  constructor(
    private readonly kafka: KafkaClient,
    private readonly postgres: PostgresDatabases,
    private readonly redis: RedisNodes,
    private readonly ids: ServiceIds,
  ) {}

  async onApplicationShutdown(signal?: string): Promise<void> {
    const steps: [string, () => Promise<void>][] = [
      ['Kafka producer', () => this.kafka.disconnectProducer()],
      ['Kafka admin', () => this.kafka.disconnectAdmin()],
      ['Postgres pools', () => this.postgres.destroy()],
      // The worker id is given back while Redis is still reachable.
      ['Snowflake worker id lease', () => this.ids.release()],
      ['Redis clients', () => this.redis.quit()],
      // Last: the spans of everything above are exported before the process ends.
      ['trace exporter', () => shutdownTracing()],
    ];
    for (const [what, close] of steps) {
      await close().catch((error: Error) => this.log.warn(`Closing ${what}: ${error.message}`));
    }
    this.log.log(`Stopped${signal ? ` on ${signal}` : ''}`);
  }
}
