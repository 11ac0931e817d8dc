export {
  deadLetters,
  flowStepDuration,
  inboxDuplicatesSkipped,
  kafkaAssignedPartitions,
  outboxOldestUnsentAge,
  outboxUnsent,
  redlockAcquireDuration,
  redlockAcquireFailures,
} from './catalog.js';
export { MetricsController } from './metrics.controller.js';
export { metricsRegistry } from './registry.js';
export { ServiceMetrics } from './service-metrics.js';
export type { ScrapeCollector } from './service-metrics.js';
