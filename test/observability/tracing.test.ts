// The three built services export their spans to an OTLP/HTTP receiver this test runs: an
// order, by saga and by TCC, is one trace across order, inventory and payment — rooted at the
// HTTP request that placed it, each Kafka consumer span a child of the producer span whose
// traceparent its message carried. Every line the services write is JSON, and the lines about
// the order carry its id and that trace's id.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { consumerGroupOf } from '@app/dist-core/kafka/testing';
import { Kafka, logLevel } from 'kafkajs';
import { adminCredentials, saslOptions } from '@app/dist-core/kafka';
import { eventually, KAFKA_BROKERS, runSuffix } from '../support/kafka.js';
import { OtlpReceiver, SPAN_KIND, type ReceivedSpan } from '../support/otlp-receiver.js';
import {
  startService,
  TEST_DEPLOYMENT,
  type RunningService,
  type ServiceName,
} from '../support/services.js';

const RUN = runSuffix();
const SERVICES: ServiceName[] = ['order', 'payment', 'inventory'];
const CONSUMER_GROUPS = SERVICES.map((name) => consumerGroupOf(TEST_DEPLOYMENT, name));

interface Order {
  id: string;
  status: 'PENDING' | 'COMPLETED' | 'CANCELLED';
}

interface LogLine {
  level: string;
  time: string;
  service: string;
  msg: string;
  orderId?: string;
  traceId?: string;
  spanId?: string;
}

const receiver = new OtlpReceiver();
const running = new Map<ServiceName, RunningService>();

async function call<T>(name: ServiceName, method: string, path: string, body?: unknown) {
  const response = await running.get(name)!.fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/**
 * Other checkouts run the same test services against the same Kafka, in the same consumer groups
 * (the same TEST_DEPLOYMENT): an
 * instance of theirs could handle one of our messages, and its spans go elsewhere. The
 * assertions below hold only while ours are the groups' only members, so wait for that.
 */
async function waitUntilAloneInConsumerGroups(): Promise<void> {
  const admin = new Kafka({
    brokers: KAFKA_BROKERS,
    sasl: saslOptions(adminCredentials()),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await eventually(
      `our services alone in ${CONSUMER_GROUPS.join(', ')}`,
      async () => {
        const { groups } = await admin.describeGroups(CONSUMER_GROUPS);
        return groups.every((group) => group.members.length === 1);
      },
      90_000,
    );
  } finally {
    await admin.disconnect();
  }
}

function logLines(name: ServiceName): LogLine[] {
  return running
    .get(name)!
    .output.join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`${name} wrote a line that is not JSON: ${line}`);
      }
    });
}

/** The spans of the order's trace, once each message sent in it has been handled. */
async function settledTrace(orderId: string): Promise<ReceivedSpan[]> {
  let traceId = '';
  let size = -1;
  let changedAt = Date.now();
  await eventually(
    `the trace of order ${orderId}, every message in it consumed`,
    () => {
      const aboutOrder = receiver.spans.filter(
        (span) => span.attributes['messaging.message.conversation_id'] === orderId,
      );
      if (aboutOrder.length === 0) return false;
      traceId = aboutOrder[0].traceId;
      const spans = receiver.trace(traceId);
      const producers = spans.filter((span) => span.kind === SPAN_KIND.PRODUCER);
      const consumed = producers.every((producer) =>
        spans.some((span) => span.parentSpanId === producer.spanId),
      );
      if (spans.length !== size) [size, changedAt] = [spans.length, Date.now()];
      // No new span for a while: the exporters send every 100 ms.
      return consumed && Date.now() - changedAt > 1000;
    },
    30_000,
  );
  return receiver.trace(traceId);
}

describe('tracing and structured logs across the three services', () => {
  let sku: string;
  let customerId: string;

  beforeAll(async () => {
    const endpoint = await receiver.start();
    for (const name of SERVICES) {
      running.set(
        name,
        startService(name, {
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint,
          OTEL_BSP_SCHEDULE_DELAY: '100',
          LOG_LEVEL: 'debug',
        }),
      );
    }
    await Promise.all([...running.values()].map((service) => service.waitForHealth(200)));
    await waitUntilAloneInConsumerGroups();

    sku = `trace-${RUN}`;
    customerId = `trace-${RUN}`;
    const product = { sku, name: 'Traced widget', priceCents: 250, stock: 100 };
    expect((await call('inventory', 'POST', '/products', product)).status).toBe(201);
    const account = { customerId, balanceCents: 100_000 };
    expect((await call('payment', 'POST', '/accounts', account)).status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...running.values()].map((service) => service.stop()));
    await receiver.stop();
  });

  describe.each(['saga', 'tcc'])('an order carried by %s', (strategy) => {
    let orderId: string;
    let spans: ReceivedSpan[];

    beforeAll(async () => {
      const placed = await call<Order>('order', 'POST', '/orders', {
        customerId,
        items: [{ sku, quantity: 2 }],
        strategy,
      });
      expect(placed.status).toBe(202);
      orderId = placed.body.id;
      await eventually(`order ${orderId} COMPLETED`, async () => {
        const { body } = await call<Order>('order', 'GET', `/orders/${orderId}`);
        return body.status === 'COMPLETED';
      });
      spans = await settledTrace(orderId);
    }, 60_000);

    it('is one trace across order, inventory and payment, rooted at POST /orders', () => {
      const traces = new Set(
        receiver.spans
          .filter((span) => span.attributes['messaging.message.conversation_id'] === orderId)
          .map((span) => span.traceId),
      );
      expect(traces.size).toBe(1);
      expect(new Set(spans.map((span) => span.service))).toEqual(new Set(SERVICES));

      const roots = spans.filter((span) => span.parentSpanId === '');
      expect(roots).toHaveLength(1);
      expect(roots[0]).toMatchObject({
        service: 'order',
        kind: SPAN_KIND.SERVER,
        name: 'POST /orders',
        attributes: { 'http.route': '/orders', 'http.response.status_code': 202 },
      });
      const ids = new Set(spans.map((span) => span.spanId));
      for (const span of spans) if (span !== roots[0]) expect(ids).toContain(span.parentSpanId);
    });

    it('makes each consumer span a child of the producer span its message carried', () => {
      const byId = new Map(spans.map((span) => [span.spanId, span]));
      const consumers = spans.filter((span) => span.kind === SPAN_KIND.CONSUMER);
      const producers = spans.filter((span) => span.kind === SPAN_KIND.PRODUCER);
      // A command and its reply at least, to and from both participants.
      expect(consumers.length).toBeGreaterThanOrEqual(4);
      expect(producers).toHaveLength(consumers.length);
      for (const consumer of consumers) {
        const producer = byId.get(consumer.parentSpanId)!;
        // The consumer read its parent from the message's traceparent header: that header
        // held the id of the span that published this very message.
        expect(producer.kind).toBe(SPAN_KIND.PRODUCER);
        expect(producer.attributes['messaging.message.id']).toBe(
          consumer.attributes['messaging.message.id'],
        );
        expect(producer.attributes['messaging.destination.name']).toBe(
          consumer.attributes['messaging.destination.name'],
        );
        expect(consumer.service).not.toBe(producer.service);
      }
      for (const producer of producers) {
        // Published on behalf of the request or handler that enqueued the row, in its service.
        const enqueuer = byId.get(producer.parentSpanId)!;
        expect([SPAN_KIND.SERVER, SPAN_KIND.CONSUMER]).toContain(enqueuer.kind);
        expect(enqueuer.service).toBe(producer.service);
      }
    });

    it("writes JSON lines, and those about the order carry its id and its trace's id", () => {
      const traceId = spans[0].traceId;
      const root = spans.find((span) => span.parentSpanId === '')!;
      const spanIds = new Set(spans.map((span) => span.spanId));
      for (const name of SERVICES) {
        const lines = logLines(name);
        for (const line of lines) {
          expect(line).toEqual(
            expect.objectContaining({
              level: expect.any(String),
              time: expect.any(String),
              service: name,
              msg: expect.any(String),
            }),
          );
        }
        const aboutOrder = lines.filter((line) => line.orderId === orderId);
        expect(aboutOrder.length).toBeGreaterThan(0);
        for (const line of aboutOrder) {
          expect(line.traceId).toBe(traceId);
          expect(spanIds).toContain(line.spanId);
        }
      }
      const placed = logLines('order').find(
        (line) => line.orderId === orderId && line.msg.startsWith('Order placed'),
      );
      expect(placed).toMatchObject({ level: 'info', traceId, spanId: root.spanId });
      const completed = logLines('order').find(
        (line) => line.orderId === orderId && line.msg.startsWith('Order COMPLETED'),
      );
      expect(completed).toMatchObject({ level: 'info', traceId });
    });
  });
});
