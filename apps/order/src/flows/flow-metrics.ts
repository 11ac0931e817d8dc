import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { metricsRegistry, ServiceMetrics } from '@app/dist-core/metrics';
import { countParkedSagas } from '@app/dist-core/saga';
import { OrderShards } from '../orders/order.store.js';
import { ORDER_SAGA } from './saga/order.saga.js';

const parkedSagas = new Gauge({
  name: 'sagas_parked',
  help: 'Sagas PARKED for an operator (POST /admin/sagas/:id/retry), by saga type',
  labelNames: ['saga_type'] as const,
  registers: [metricsRegistry],
});

/** The flows' own gauge, read from the shards when Prometheus scrapes (as `orders` is). */
@Injectable()
export class FlowMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: ServiceMetrics,
    private readonly shards: OrderShards,
  ) {}

  onModuleInit(): void {
    this.metrics.onScrape('parked sagas', () => this.countParked());
  }

  private async countParked(): Promise<void> {
    const perShard = await Promise.all(
      this.shards.all().map(({ dataSource }) => countParkedSagas(dataSource.manager)),
    );
    parkedSagas.reset();
    // An explicit 0, so a dashboard shows "none parked" rather than "no data".
    parkedSagas.set({ saga_type: ORDER_SAGA }, 0);
    for (const counts of perShard) {
      for (const [sagaType, parked] of counts) parkedSagas.inc({ saga_type: sagaType }, parked);
    }
  }
}
