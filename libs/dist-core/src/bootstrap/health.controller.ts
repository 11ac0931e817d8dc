import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { principalOf, Public } from '../auth/index.js';
import { KafkaClient } from '../kafka/index.js';
import { ConsumerGroupStatus } from '../kafka/consumer-group-status.js';
import { describeError } from '../kafka/dead-letter.js';
import { errorBody } from './http-error.filter.js';
import { PostgresDatabases } from './postgres-databases.js';
import { assessReadiness, healthBody, type Check, type ProbeResult } from './readiness.js';
import { RedisNodes } from './redis-nodes.js';

const PROBE_TIMEOUT_MS = 1500;

/**
 * Health for orchestrators (CONTRACT.md): `/health/live` says the process is up (a liveness
 * probe restarts it otherwise), `/health/ready` whether it can do its work (a readiness probe
 * sends it no traffic otherwise; the rules are in readiness.ts), `/health` is ready. Each
 * server is probed with a timeout, so a hung one answers "down" in time, not never.
 */
@ApiTags('health')
@Public() // probes (docker, Kubernetes, load balancers) carry no token
@Controller('health')
export class HealthController {
  constructor(
    private readonly postgres: PostgresDatabases,
    private readonly redis: RedisNodes,
    private readonly kafka: KafkaClient,
    private readonly consumer: ConsumerGroupStatus,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up: 200' })
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Databases, Kafka and the consumer group, a Redlock quorum of Redis: 200 or 503',
  })
  ready(@Req() request: Request, @Res({ passthrough: true }) response: Response) {
    return this.readiness(request, response);
  }

  @Get()
  @ApiOperation({ summary: 'The same as /health/ready' })
  health(@Req() request: Request, @Res({ passthrough: true }) response: Response) {
    return this.readiness(request, response);
  }

  private async readiness(request: Request, response: Response): Promise<object> {
    const readiness = assessReadiness(await this.probeAll());
    // Hosts and errors are for operators (CONTRACT.md): the routes are public, but AuthGuard
    // still names the caller of a valid token, and an operator's sees each probe.
    const body = healthBody(readiness, principalOf(request)?.role === 'operator');
    if (readiness.ready) return body;
    response.status(503);
    return errorBody(503, 'Not ready', body);
  }

  private probeAll(): Promise<ProbeResult[]> {
    return Promise.all([
      ...this.postgres
        .all()
        .map(({ name, dataSource }) => probe('postgres', name, () => dataSource.query('SELECT 1'))),
      probe('kafka', 'cluster', () => this.kafka.ping()),
      probe('kafka-consumer', 'group', async () => {
        if (!this.consumer.ready) throw new Error(this.consumer.describe());
      }),
      ...this.redis.clients.map((client, index) =>
        probe('redlock', this.redis.label(index), () => client.ping()),
      ),
    ]);
  }
}

async function probe(
  check: Check,
  target: string,
  fn: () => Promise<unknown>,
): Promise<ProbeResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer in ${PROBE_TIMEOUT_MS} ms`)),
      PROBE_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([fn(), timeout]);
    return { check, target, ok: true };
  } catch (error) {
    return { check, target, ok: false, error: describeError(error) };
  } finally {
    clearTimeout(timer);
  }
}
