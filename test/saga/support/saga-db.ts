import { DataSource } from 'typeorm';
import { freshTestSchema, testDatabaseUrl } from '../../support/test-database.js';
import type { Envelope } from '@app/dist-core/kafka';
import { handleOnce, inboxMigrations } from '@app/dist-core/inbox';
import { outboxMigrations } from '@app/dist-core/outbox';
import type { FlowReply, ReplyResult } from '@app/dist-core/engine';
import {
  sagaMigrations,
  type SagaOrchestrator,
  type SagaOrchestratorOptions,
} from '@app/dist-core/saga';
import { exampleMessages, exampleOrderSaga } from '@app/dist-core/saga/testing';
import type { Clock, SnowflakeGenerator } from '@app/dist-core/snowflake';

/** The saga tests' own database; each test file works in its own schema of it. */
const TEST_DATABASE = 'test_saga';

/** A pool on one schema of the test database (a second "process" opens another). */
export function sagaDataSource(schema: string, poolSize = 4): DataSource {
  return new DataSource({
    type: 'postgres',
    url: testDatabaseUrl(TEST_DATABASE),
    migrations: [...outboxMigrations, ...inboxMigrations, ...sagaMigrations],
    extra: { max: poolSize, options: `-c search_path=${schema}` },
  });
}

/**
 * A fresh schema with the outbox, inbox and saga tables, as a service's migrations make them,
 * plus `example_orders`: the business row the saga's hooks finish in their own transaction.
 */
export async function openSagaSchema(schema: string, poolSize = 4): Promise<DataSource> {
  await freshTestSchema(TEST_DATABASE, schema);
  const dataSource = sagaDataSource(schema, poolSize);
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  await dataSource.query(`CREATE TABLE example_orders (
    id bigint PRIMARY KEY, status text NOT NULL, reason text)`);
  return dataSource;
}

/** The example saga, finishing its order row in the transaction of its last transition. */
export const orderSagaWithHooks = exampleOrderSaga
  .onCompleted(async (manager, saga) => {
    await manager.query(`UPDATE example_orders SET status = 'COMPLETED' WHERE id = $1`, [saga.id]);
  })
  .onCompensated(async (manager, saga, reason) => {
    await manager.query(
      `UPDATE example_orders SET status = 'CANCELLED', reason = $2 WHERE id = $1`,
      [saga.id, reason],
    );
  });

/** Short timeouts and deterministic jitter (always the longest delay) for the saga tests. */
export const TEST_SAGA_OPTIONS: SagaOrchestratorOptions = {
  messages: exampleMessages,
  stepTimeoutMs: 1_000,
  sagaTimeoutMs: 60_000,
  maxStepAttempts: 2,
  parkAfterAttempts: 3,
  backoff: { baseMs: 100, maxMs: 400 },
  leaseMs: 5_000,
  random: () => 1,
};

/** Time that moves only when the test says so: deadlines and leases become deterministic. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2030, 0, 1)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** A command as the relay would publish it: a row of the real `outbox` table. */
export interface OutboxCommand {
  id: string;
  topic: string;
  type: string;
  causationId: string | null;
  payload: Record<string, unknown>;
}

export async function commandsOf(dataSource: DataSource, sagaId: string): Promise<OutboxCommand[]> {
  const rows = (await dataSource.query(
    `SELECT id, topic, envelope FROM outbox WHERE key = $1 ORDER BY id`,
    [sagaId],
  )) as { id: string; topic: string; envelope: Envelope<Record<string, unknown>> }[];
  return rows.map((r) => ({
    id: r.id,
    topic: r.topic,
    type: r.envelope.type,
    causationId: r.envelope.causationId,
    payload: r.envelope.payload,
  }));
}

export async function lastCommand(dataSource: DataSource, sagaId: string): Promise<OutboxCommand> {
  const commands = await commandsOf(dataSource, sagaId);
  return commands[commands.length - 1];
}

/** A participant's reply to `command`, as its own outbox would have sent it. */
export function replyTo(
  ids: SnowflakeGenerator,
  sagaId: string,
  command: OutboxCommand,
  payload: FlowReply,
): Envelope {
  return {
    id: ids.nextId(),
    type: `${command.type}.reply`,
    correlationId: sagaId,
    causationId: command.id,
    createdAt: new Date().toISOString(),
    payload,
  };
}

/** What the order service's reply handler does: inbox, then the orchestrator, one transaction. */
export async function deliverReply(
  dataSource: DataSource,
  orchestrator: SagaOrchestrator,
  envelope: Envelope,
): Promise<ReplyResult | 'duplicate'> {
  let result: ReplyResult | 'duplicate' = 'duplicate';
  await handleOnce(dataSource, 'order:saga-replies', envelope, async (manager) => {
    result = await orchestrator.handleReply(manager, envelope);
  });
  return result;
}
