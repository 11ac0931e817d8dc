import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { metricsRegistry } from './registry.js';
import { ServiceMetrics } from './service-metrics.js';

/** GET /metrics: what Prometheus scrapes (deploy/observability/prometheus.yml). */
@ApiTags('observability')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: ServiceMetrics) {}

  @Get()
  @Header('Content-Type', metricsRegistry.contentType)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics, in the text exposition format 0.0.4' })
  @ApiProduces(metricsRegistry.contentType)
  @ApiOkResponse({ description: 'One sample per line', schema: { type: 'string' } })
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
