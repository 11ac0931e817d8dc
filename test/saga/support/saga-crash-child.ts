// Spawned by saga-crash-recovery.test.ts: one more instance of the order service's saga
// poller. It claims the due sagas at SAGA_NOW and starts driving the first; right after the
// retry command is enqueued (the compare-and-set done, nothing committed) it prints
// "ENQUEUED <command id>" and freezes, so the test can SIGKILL it at exactly that point.
import { writeSync } from 'node:fs';
import { Outbox } from '@app/dist-core/outbox';
import { SagaOrchestrator } from '@app/dist-core/saga';
import { SnowflakeGenerator, fixedWorkerId } from '@app/dist-core/snowflake';
import { TEST_SAGA_OPTIONS, orderSagaWithHooks, sagaDataSource } from './saga-db.js';

const schema = process.env.SAGA_SCHEMA!;
const now = Number(process.env.SAGA_NOW);

const db = sagaDataSource(schema, 2);
await db.initialize();
const outbox = new Outbox(new SnowflakeGenerator(fixedWorkerId(902)));
const freezingOutbox: Pick<Outbox, 'enqueue' | 'nextId'> = {
  nextId: () => outbox.nextId(),
  async enqueue(manager, message) {
    const envelope = await outbox.enqueue(manager, message);
    writeSync(1, `ENQUEUED ${envelope.id}\n`);
    setInterval(() => undefined, 60_000);
    return new Promise<never>(() => undefined);
  },
};
const saga = new SagaOrchestrator([orderSagaWithHooks], freezingOutbox, {
  ...TEST_SAGA_OPTIONS,
  owner: 'crash-child',
  clock: { now: () => now },
});
await saga.tick(db);
