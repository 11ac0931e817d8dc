// Work a recovery loop starts — a saga step or a TCC Try that timed out — is not a reply to any
// message: it runs as the root of a new trace, with a span link to the trace the flow began in,
// and the commands it sends carry the new trace. Real Postgres (the engines, outbox and their
// tables); the spans go to the OpenTelemetry SDK in this process, as in a service.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, SpanKind, trace } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-node';
import { DataSource } from 'typeorm';
import { defineMessages } from '@app/dist-core/kafka';
import { parseTraceparent, TRACER_NAME } from '@app/dist-core/observability';
import { Outbox, outboxMigrations } from '@app/dist-core/outbox';
import { SagaOrchestrator, sagaMigrations } from '@app/dist-core/saga';
import { fixedWorkerId, SnowflakeGenerator } from '@app/dist-core/snowflake';
import { TccCoordinator, tccCoordinatorMigrations, type TccDefinition } from '@app/dist-core/tcc';
import { ManualClock, orderSagaWithHooks, TEST_SAGA_OPTIONS } from '../saga/support/saga-db.js';
import { freshTestSchema, testDatabaseUrl } from '../support/test-database.js';

const DATABASE = 'test_saga';
const SCHEMA = 'trace_links_test';
const ids = new SnowflakeGenerator(fixedWorkerId(921));
const outbox = new Outbox(ids);
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let db: DataSource;

const oneBranchTcc: TccDefinition<{ sku: string }> = {
  kind: 'trace-links-tcc',
  branches: [
    {
      name: 'inventory',
      topics: {
        try: 'trace-links.inventory.commands',
        confirm: 'trace-links.inventory.commands',
        cancel: 'trace-links.inventory.commands',
      },
      types: { try: 'links.try', confirm: 'links.confirm', cancel: 'links.cancel' },
      tryPayload: ({ input }) => input,
    },
  ],
};

beforeAll(async () => {
  provider.register();
  await freshTestSchema(DATABASE, SCHEMA);
  db = new DataSource({
    type: 'postgres',
    url: testDatabaseUrl(DATABASE),
    migrations: [...outboxMigrations, ...sagaMigrations, ...tccCoordinatorMigrations],
    extra: { max: 4, options: `-c search_path=${SCHEMA}` },
  });
  await db.initialize();
  await db.runMigrations({ transaction: 'each' });
  await db.query(`CREATE TABLE example_orders (id bigint PRIMARY KEY, status text, reason text)`);
}, 30_000);

afterAll(async () => {
  await db?.destroy();
  await provider.shutdown();
  context.disable();
  trace.disable();
});

/** Runs `start` inside a span standing for the POST /orders request; returns that span. */
async function inRequestSpan(start: () => Promise<void>): Promise<ReadableSpan> {
  const tracer = trace.getTracer('test');
  await tracer.startActiveSpan('POST /orders', { kind: SpanKind.SERVER }, async (span) => {
    await start();
    span.end();
  });
  return exporter.getFinishedSpans().find((span) => span.name === 'POST /orders')!;
}

async function outboxTraceparents(correlationId: string): Promise<string[]> {
  const rows: { headers: Record<string, string> }[] = await db.query(
    `SELECT headers FROM outbox WHERE key = $1 ORDER BY id`,
    [correlationId],
  );
  return rows.map((row) => row.headers.traceparent);
}

function expectLinkedRecovery(name: string, orderId: string, request: ReadableSpan) {
  const recovery = exporter
    .getFinishedSpans()
    .find(
      (span) =>
        span.name === name &&
        span.attributes['messaging.message.conversation_id'] === orderId &&
        span.instrumentationScope.name === TRACER_NAME,
    );
  expect(recovery).toBeDefined();
  // A root of its own trace, linked to the request's span.
  expect(recovery!.parentSpanContext).toBeUndefined();
  expect(recovery!.spanContext().traceId).not.toBe(request.spanContext().traceId);
  expect(recovery!.links.map((link) => link.context.spanId)).toEqual([
    request.spanContext().spanId,
  ]);
  expect(recovery!.links[0].context.traceId).toBe(request.spanContext().traceId);
  return recovery!;
}

describe('recovery work links to the trace its flow began in', () => {
  it('a saga step that timed out: the retry is a new trace linked to the request', async () => {
    exporter.reset();
    const clock = new ManualClock();
    const saga = new SagaOrchestrator([orderSagaWithHooks], outbox, {
      ...TEST_SAGA_OPTIONS,
      clock,
    });
    const id = ids.nextId();
    const request = await inRequestSpan(() =>
      db.transaction(async (manager) => {
        await manager.query(`INSERT INTO example_orders (id, status) VALUES ($1, 'PENDING')`, [id]);
        await saga.start(manager, 'example-order', id, {
          customerId: 'alice',
          items: [{ sku: 'apple', quantity: 1 }],
        });
      }),
    );

    clock.advance(1_000); // the reply deadline: the step times out, then backs off
    expect(await saga.tick(db)).toBe(1);
    clock.advance(400);
    expect(await saga.tick(db)).toBe(1); // the retry, sent by the recovery loop

    const recoveries = exporter.getFinishedSpans().filter((span) => span.name === 'saga recover');
    expect(recoveries).toHaveLength(2);
    for (const recovery of recoveries) {
      expect(recovery.links[0]?.context.spanId).toBe(request.spanContext().spanId);
    }
    const retry = expectLinkedRecovery('saga recover', id, request);
    // The first command continues the request's trace; the retry carries the recovery's.
    const [first, resent] = (await outboxTraceparents(id)).map((tp) => parseTraceparent(tp)!);
    expect(first).toMatchObject({ traceId: request.spanContext().traceId });
    expect(first.spanId).toBe(request.spanContext().spanId);
    expect(recoveries.map((span) => span.spanContext().spanId)).toContain(resent.spanId);
    expect(resent.traceId).not.toBe(request.spanContext().traceId);
    expect(retry.status.code).not.toBe(2);
  });

  it('a TCC Try that timed out: the Cancel is a new trace linked to the request', async () => {
    exporter.reset();
    const clock = new ManualClock();
    const tcc = new TccCoordinator(oneBranchTcc, outbox, {
      messages: defineMessages({}),
      clock,
      tryTimeoutMs: 1_000,
      random: () => 1,
    });
    const gid = ids.nextId();
    const request = await inRequestSpan(() =>
      db.transaction(async (manager) => {
        await tcc.begin(manager, gid, { sku: 'apple' });
      }),
    );

    clock.advance(1_001);
    expect(await tcc.tick(db)).toBe(1);

    const recovery = expectLinkedRecovery('tcc recover', gid, request);
    const [tried, cancel] = (await outboxTraceparents(gid)).map((tp) => parseTraceparent(tp)!);
    expect(tried.spanId).toBe(request.spanContext().spanId);
    expect(cancel).toMatchObject({
      traceId: recovery.spanContext().traceId,
      spanId: recovery.spanContext().spanId,
    });
  });
});
