import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { metricsRegistry, ServiceMetrics } from '@app/dist-core/metrics';
import { OrderShards } from './order.store.js';
import { CANCEL_REASONS, ORDER_STATUSES, ORDER_STRATEGIES } from './order.js';

/**
 * A gauge, not a counter: each scrape counts the rows of every shard, so the figures are exact
 * after a restart, agree between order instances (sum by series with max(), not sum()), and
 * include orders another instance finished. PENDING is what is in flight right now.
 */
const orders = new Gauge({
  name: 'orders',
  help: 'Orders in the order shards by strategy, status and reason (counted at scrape)',
  labelNames: ['strategy', 'status', 'reason'] as const,
  registers: [metricsRegistry],
});

interface OrderCountRow {
  strategy: string;
  status: string;
  reason: string | null;
  count: number;
}

/** The order service's own metrics, read from the shards when Prometheus scrapes. */
@Injectable()
export class OrderMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: ServiceMetrics,
    private readonly shards: OrderShards,
  ) {}

  onModuleInit(): void {
    this.metrics.onScrape('orders', () => this.countOrders());
  }

  private async countOrders(): Promise<void> {
    const perShard = await Promise.all(
      this.shards.all().map(
        ({ dataSource }) =>
          dataSource.query(
            `SELECT strategy, status, reason, count(*)::int AS count
               FROM orders GROUP BY strategy, status, reason`,
          ) as Promise<OrderCountRow[]>,
      ),
    );
    const totals = new Map<string, { labels: Record<string, string>; count: number }>();
    for (const row of perShard.flat()) {
      const labels = {
        strategy: closed(ORDER_STRATEGIES, row.strategy),
        status: closed(ORDER_STATUSES, row.status),
        reason: row.reason === null ? '' : closed(CANCEL_REASONS, row.reason),
      };
      const key = `${labels.strategy}/${labels.status}/${labels.reason}`;
      const total = totals.get(key) ?? { labels, count: 0 };
      total.count += row.count;
      totals.set(key, total);
    }
    // Replaced at once, after every shard answered: no scrape sees a partial sum.
    orders.reset();
    for (const { labels, count } of totals.values()) orders.set(labels, count);
  }
}

/**
 * A label value from a closed set, whatever the row holds: each distinct label value is a time
 * series Prometheus keeps, so a value that came from outside (a reply's text) must never be one.
 */
function closed(values: readonly string[], value: string): string {
  return values.includes(value) ? value : 'OTHER';
}
