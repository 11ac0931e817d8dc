import { Logger } from '@nestjs/common';
import { collectProcessMetrics, metricsRegistry } from './registry.js';

/** Reads what a gauge shows from its source (Postgres, the consumer) just before a scrape. */
export type ScrapeCollector = () => Promise<void>;

/**
 * A service's metrics: the process registry, labelled with the service's name, and the
 * collectors that refresh the gauges read at scrape. Counting at scrape from the database
 * (an outbox backlog, orders by status) is exact after a restart and agrees between instances;
 * a counter kept in memory would start again at zero.
 */
export class ServiceMetrics {
  private readonly log = new Logger(ServiceMetrics.name);
  private readonly collectors = new Map<string, ScrapeCollector>();

  constructor(service: string) {
    collectProcessMetrics();
    metricsRegistry.setDefaultLabels({ service });
  }

  /** `name` identifies the collector in the warning logged when it fails. */
  onScrape(name: string, collect: ScrapeCollector): void {
    this.collectors.set(name, collect);
  }

  /**
   * The Prometheus text. A collector that fails (its database is down) is logged and its gauges
   * keep their last values: one dependency's outage must not blank every other metric.
   */
  async render(): Promise<string> {
    await Promise.all(
      [...this.collectors].map(async ([name, collect]) => {
        try {
          await collect();
        } catch (error) {
          this.log.warn(`Metrics collector ${name} failed: ${(error as Error).message}`);
        }
      }),
    );
    return metricsRegistry.metrics();
  }
}
