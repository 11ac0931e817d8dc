// The contents page: one registry, the metric catalog the patterns record into, the
// /metrics endpoint and the collectors that read gauges when Prometheus scrapes.
export {
  flowStepDuration,
  kafkaAssignedPartitions,
  outboxOldestUnsentAge,
  outboxUnsent,
} from './catalog.js';
export { MetricsController } from './metrics.controller.js';
export { metricsRegistry } from './registry.js';
export { ServiceMetrics } from './service-metrics.js';
export type { ScrapeCollector } from './service-metrics.js';
