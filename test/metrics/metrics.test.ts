// GET /metrics of the three built services, against the real Kafka, Postgres and Redis: valid
// Prometheus text, and figures that move as they should when orders are placed (both strategies,
// completed and cancelled), a reply is delivered twice, and a poison message is dead-lettered.
//
// Other checkouts may run the same services in the same consumer groups, so a message is handled
// by whichever process owns its partition. Counters are per process: each check sends its
// messages to (or places orders keyed into) a partition this order service owns, as its
// `kafka_consumer_assigned_partitions` says. Gauges read from Postgres are exact regardless.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { TOPICS } from '@app/order-flow-api';
import type { KafkaClient } from '@app/dist-core/kafka';
import { composeSnowflakeId } from '@app/dist-core/snowflake';
import { connectKafka, eventually, runSuffix } from '../support/kafka.js';
import { startService, TEST_DEPLOYMENT, type RunningService } from '../support/services.js';
import { parsePrometheusText, samplesOf, sumOf, type Scrape } from './support/prometheus-text.js';

const RUN = runSuffix();
const REPLIES = TOPICS.inventoryReplies;
const PARTITIONS = 3;
const DASHBOARDS = 'deploy/observability/grafana/dashboards';

type Strategy = 'saga' | 'tcc';
interface Order {
  id: string;
  strategy: Strategy;
  status: 'PENDING' | 'COMPLETED' | 'CANCELLED';
  reason: string | null;
}

/** kafkajs' default partitioner, as the outbox relay's producer uses it: key → partition. */
const partitioner = Partitioners.DefaultPartitioner();
const partitionMetadata = Array.from(
  { length: PARTITIONS },
  (_, partitionId): PartitionMetadata => ({
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
    partitionErrorCode: 0,
    offlineReplicas: [],
  }),
);
const partitionOf = (key: string): number =>
  partitioner({ topic: REPLIES, partitionMetadata, message: { key, value: null } });

let sequence = 0;
/** A fresh id in the Snowflake layout, from a worker id no service leases in these tests. */
const freshId = () =>
  composeSnowflakeId({ timestampMs: Date.now(), workerId: 1023, sequence: sequence++ % 4096 });

describe('GET /metrics', () => {
  let order: RunningService;
  let payment: RunningService;
  let inventory: RunningService;
  let kafka: KafkaClient;

  beforeAll(async () => {
    order = startService('order');
    payment = startService('payment');
    inventory = startService('inventory');
    kafka = await connectKafka(`metrics-test-${RUN}`, TEST_DEPLOYMENT);
    // Joining consumer groups that other checkouts' services share can take a while.
    await Promise.all([order, payment, inventory].map((s) => s.waitForHealth(200, 110_000)));
  }, 120_000);

  afterAll(async () => {
    await kafka?.disconnectProducer();
    await kafka?.disconnectAdmin();
    await Promise.all([order, payment, inventory].map((s) => s?.stop()));
  });

  const scrape = async (service: RunningService): Promise<Scrape> => {
    // Operator-only (CONTRACT.md): the scrape carries an operator's token, as Prometheus does.
    const response = await service.fetch('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await response.text());
  };

  const call = <T>(service: RunningService, method: string, path: string, body?: unknown) =>
    service.request<T>(method, path, body);

  /** The reply partitions this order service consumes now; waits until it has at least one. */
  const ownedReplyPartitions = async (): Promise<Set<number>> => {
    let owned = new Set<number>();
    await eventually(
      `the order service owns a partition of ${REPLIES}`,
      async () => {
        const samples = samplesOf(await scrape(order), 'kafka_consumer_assigned_partitions');
        owned = new Set(
          samples
            .filter((s) => s.labels.topic === REPLIES && s.value === 1)
            .map((s) => Number(s.labels.partition)),
        );
        return owned.size > 0;
      },
      30_000,
    );
    return owned;
  };

  const terminal = async (id: string): Promise<Order> => {
    let last: Order | undefined;
    await eventually(
      `order ${id} terminal`,
      async () => {
        last = (await call<Order>(order, 'GET', `/orders/${id}`)).body;
        return last.status !== 'PENDING';
      },
      30_000,
    );
    return last!;
  };

  it('serves valid Prometheus text on every service, with process and Redlock metrics', async () => {
    for (const service of [order, payment, inventory]) {
      const metrics = await scrape(service);
      expect(sumOf(metrics, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(metrics.families.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
      // The Snowflake worker id is leased with Redlock at start: one acquire at least succeeded.
      expect(
        sumOf(metrics, 'redlock_acquire_duration_seconds_count', { outcome: 'acquired' }),
      ).toBeGreaterThanOrEqual(1);
      expect(metrics.families.get('redlock_acquire_failures_total')).toBe('counter');
      for (const family of [
        'flow_step_duration_seconds',
        'inbox_duplicates_skipped_total',
        'kafka_dead_letters_total',
        'outbox_unsent_messages',
        'outbox_oldest_unsent_age_seconds',
      ]) {
        expect(metrics.families.has(family)).toBe(true);
      }
      for (const sample of samplesOf(metrics, 'process_resident_memory_bytes')) {
        expect(sample.labels.service).toBe(service.name);
      }
    }
    const orderMetrics = await scrape(order);
    expect(orderMetrics.families.get('orders')).toBe('gauge');
    expect(sumOf(orderMetrics, 'sagas_parked', { saga_type: 'order' })).toBeGreaterThanOrEqual(0);
    expect(samplesOf(orderMetrics, 'sagas_parked').length).toBeGreaterThan(0);
  });

  it('counts orders by strategy and status, times each step, and drains the outbox', async () => {
    const sku = `metrics-${RUN}-widget`;
    expect(
      (await call(inventory, 'POST', '/products', { sku, name: 'w', priceCents: 100, stock: 1000 }))
        .status,
    ).toBe(201);
    const rich = `metrics-${RUN}-rich`;
    const poor = `metrics-${RUN}-poor`;
    expect(
      (await call(payment, 'POST', '/accounts', { customerId: rich, balanceCents: 1_000_000 }))
        .status,
    ).toBe(201);
    expect(
      (await call(payment, 'POST', '/accounts', { customerId: poor, balanceCents: 0 })).status,
    ).toBe(201);

    const before = await scrape(order);
    const kinds = [
      {
        strategy: 'saga',
        customerId: rich,
        status: 'COMPLETED',
        reason: null,
        steps: ['reserveStock SUCCESS', 'takePayment SUCCESS', 'confirmStock SUCCESS'],
      },
      {
        strategy: 'tcc',
        customerId: rich,
        status: 'COMPLETED',
        reason: null,
        steps: [
          'inventory.try SUCCESS',
          'payment.try SUCCESS',
          'inventory.confirm SUCCESS',
          'payment.confirm SUCCESS',
        ],
      },
      {
        strategy: 'saga',
        customerId: poor,
        status: 'CANCELLED',
        reason: 'INSUFFICIENT_FUNDS',
        steps: ['reserveStock SUCCESS', 'takePayment FAILURE', 'reserveStock.compensation SUCCESS'],
      },
      {
        strategy: 'tcc',
        customerId: poor,
        status: 'CANCELLED',
        reason: 'INSUFFICIENT_FUNDS',
        steps: [
          'inventory.try SUCCESS',
          'payment.try FAILURE',
          'inventory.cancel SUCCESS',
          'payment.cancel SUCCESS',
        ],
      },
    ] as const;
    const placed: { id: string; kind: (typeof kinds)[number] }[] = [];
    const place = async (kind: (typeof kinds)[number]) => {
      const { status, body } = await call<Order>(order, 'POST', '/orders', {
        customerId: kind.customerId,
        items: [{ sku, quantity: 1 }],
        strategy: kind.strategy,
      });
      expect(status).toBe(202);
      placed.push({ id: body.id, kind });
      const done = await terminal(body.id);
      expect({ status: done.status, reason: done.reason }).toEqual({
        status: kind.status,
        reason: kind.reason,
      });
      return body.id;
    };
    const stepCount = (metrics: Scrape, flow: string, line: string) => {
      const [step, outcome] = line.split(' ');
      return sumOf(metrics, 'flow_step_duration_seconds_count', { flow, step, outcome });
    };

    // Each kind's steps are timed by the process that applies its replies: place orders of the
    // kind until one is keyed into a partition this process owns, and check its steps were
    // timed here. A rebalance in between (another checkout's service joining) moves the
    // partition away; the next round tries again.
    for (const kind of kinds) {
      let missing: string[] = [...kind.steps];
      for (let round = 0; round < 6 && missing.length > 0; round++) {
        const roundBefore = await scrape(order);
        const owned = await ownedReplyPartitions();
        for (let tries = 0; tries < 20; tries++) {
          if (owned.has(partitionOf(await place(kind)))) break;
        }
        const roundAfter = await scrape(order);
        // A step timed here in any round counts: a rebalance may move a later step away.
        missing = missing.filter(
          (line) =>
            stepCount(roundAfter, kind.strategy, line) <=
            stepCount(roundBefore, kind.strategy, line),
        );
      }
      expect({ kind: `${kind.strategy} ${kind.status}`, missing }).toEqual({
        kind: `${kind.strategy} ${kind.status}`,
        missing: [],
      });
    }

    // Every order, whichever process carried it: the gauge counts the shards' rows at scrape.
    const after = await scrape(order);
    for (const kind of kinds) {
      const labels = { strategy: kind.strategy, status: kind.status, reason: kind.reason ?? '' };
      const placedOfKind = placed.filter((p) => p.kind === kind).length;
      const delta = sumOf(after, 'orders', labels) - sumOf(before, 'orders', labels);
      expect({ ...labels, delta: delta >= placedOfKind }).toEqual({ ...labels, delta: true });
    }
    for (const kind of kinds) {
      for (const line of kind.steps) {
        const [step, outcome] = line.split(' ');
        const labels = { flow: kind.strategy, step, outcome };
        expect(sumOf(after, 'flow_step_duration_seconds_sum', labels)).toBeGreaterThan(0);
      }
    }
    // A histogram's +Inf bucket is its count, and its buckets never decrease.
    for (const sample of samplesOf(after, 'flow_step_duration_seconds_count')) {
      const { flow, step, outcome } = sample.labels;
      const buckets = samplesOf(after, 'flow_step_duration_seconds_bucket').filter(
        (b) => b.labels.flow === flow && b.labels.step === step && b.labels.outcome === outcome,
      );
      expect(buckets.at(-1)).toMatchObject({ labels: { le: '+Inf' }, value: sample.value });
      for (let i = 1; i < buckets.length; i++) {
        expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
      }
    }

    // Every service's outbox drains: nothing unsent, so no lag.
    for (const service of [order, payment, inventory]) {
      await eventually(`${service.name}'s outbox drained`, async () => {
        const metrics = await scrape(service);
        const unsent = samplesOf(metrics, 'outbox_unsent_messages');
        const lag = samplesOf(metrics, 'outbox_oldest_unsent_age_seconds');
        return (
          unsent.length > 0 && unsent.every((s) => s.value === 0) && lag.every((s) => s.value === 0)
        );
      });
    }
    const databases = samplesOf(await scrape(order), 'outbox_unsent_messages').map(
      (s) => s.labels.database,
    );
    expect(databases.sort()).toEqual(['orders_0', 'orders_1', 'orders_2']);
  }, 180_000);

  /** Sends raw records to one partition of the replies topic that this order service owns. */
  const sendToOwnedPartition = async (key: string, values: string[]): Promise<void> => {
    const [partition] = await ownedReplyPartitions();
    await kafka.producer.send({
      topic: REPLIES,
      acks: -1,
      messages: values.map((value) => ({ key, value, partition })),
    });
  };

  /**
   * Sends, then waits for the check; if a rebalance moved the partition to another process
   * meanwhile, the message was counted there, so it sends again (up to three times).
   */
  const retryOnRebalance = async (
    what: string,
    send: () => Promise<() => Promise<boolean>>,
  ): Promise<void> => {
    for (let round = 1; ; round++) {
      const check = await send();
      try {
        return await eventually(what, check, 10_000);
      } catch (error) {
        if (round === 3) throw error;
      }
    }
  };

  it('counts a reply delivered twice as an inbox duplicate skipped', async () => {
    const duplicates = async () =>
      sumOf(await scrape(order), 'inbox_duplicates_skipped_total', { consumer: 'order' });
    const before = await duplicates();
    // A reply to a saga that does not exist: the first copy is recorded and changes nothing.
    const correlationId = freshId();
    const envelope = JSON.stringify({
      id: freshId(),
      type: 'inventory.saga.reply',
      correlationId,
      causationId: freshId(),
      createdAt: new Date().toISOString(),
      payload: { outcome: 'SUCCESS' },
    });
    await retryOnRebalance('the duplicate counted', async () => {
      await sendToOwnedPartition(correlationId, [envelope, envelope]);
      return async () => (await duplicates()) >= before + 1;
    });
  });

  it('counts a poison message dead-lettered, by topic and reason', async () => {
    const labels = { topic: REPLIES, reason: 'malformed' };
    const deadLettered = async () => sumOf(await scrape(order), 'kafka_dead_letters_total', labels);
    const before = await deadLettered();
    await retryOnRebalance('the dead letter counted', async () => {
      await sendToOwnedPartition(freshId(), ['{"this is": not JSON']);
      return async () => (await deadLettered()) >= before + 1;
    });
  });

  it('exports every metric the Grafana dashboards query', async () => {
    const scrapes = await Promise.all([order, payment, inventory].map(scrape));
    const exported = new Set(
      scrapes.flatMap((s) => [
        ...s.samples.map((sample) => sample.name),
        ...[...s.families].flatMap(([name, type]) =>
          type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
        ),
      ]),
    );
    const queried = new Set<string>();
    for (const file of readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'))) {
      const text = readFileSync(join(DASHBOARDS, file), 'utf8');
      for (const expr of text.matchAll(/"expr":\s*"((?:[^"\\]|\\.)*)"/g)) {
        // The dashboards write every metric as a selector, `name{…}`: that is what is read here.
        for (const [, name] of expr[1].matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)) queried.add(name);
      }
    }
    expect(queried.size).toBeGreaterThanOrEqual(6);
    for (const name of queried)
      expect({ name, exported: exported.has(name) }).toEqual({ name, exported: true });
  });
});
