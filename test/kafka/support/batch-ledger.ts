// The handler message-batches.test.ts and its child process run: one batchable message type whose
// handler writes a ledger row and an outbox row in `handleOnce`, with hooks to fail, wait on a
// hot row, or kill the process after its writes.
import { Controller, Module, type Type } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import type { DataSource } from 'typeorm';
import { handleOnce } from '@app/dist-core/inbox';
import { defineMessages, message, OnMessage, type Envelope } from '@app/dist-core/kafka';
import { Outbox } from '@app/dist-core/outbox';
import { fixedWorkerId, SnowflakeGenerator } from '@app/dist-core/snowflake';

export interface Step {
  n: number;
  /** Throw after the writes, the first time only. */
  failOnce?: boolean;
  /** Update the `hot` row (which the test may hold locked) before the writes. */
  hot?: boolean;
  /** Call `crash` after the writes. */
  crash?: boolean;
}

export const LEDGER_SQL = `
  CREATE TABLE ledger (
    id bigserial PRIMARY KEY,
    key text NOT NULL,
    n int NOT NULL,
    tx bigint NOT NULL DEFAULT txid_current()
  );
  CREATE TABLE hot (id int PRIMARY KEY, touched int NOT NULL DEFAULT 0);
  INSERT INTO hot (id) VALUES (1)`;

export function stepMessages(topic: string) {
  return defineMessages({ 'batch.step': message<Step>(topic) });
}

/** Every run of the handler (each attempt), by message id. */
export type Runs = Map<string, number>;

export function ledgerModule(options: {
  topic: string;
  replies: string;
  db: () => DataSource;
  runs: Runs;
  workerId: number;
  crash?: (envelope: Envelope<Step>) => void;
}): Type<unknown> {
  const messages = stepMessages(options.topic);
  const outbox = new Outbox(new SnowflakeGenerator(fixedWorkerId(options.workerId)));

  @Controller()
  class StepHandler {
    @OnMessage(messages, 'batch.step', { batchable: true })
    async step(@Payload() envelope: Envelope<Step>): Promise<void> {
      const { n, failOnce, hot, crash } = envelope.payload;
      const run = (options.runs.get(envelope.id) ?? 0) + 1;
      options.runs.set(envelope.id, run);
      await handleOnce(options.db(), 'batch-test', envelope, async (manager) => {
        if (hot) await manager.query('UPDATE hot SET touched = touched + 1 WHERE id = 1');
        await manager.query('INSERT INTO ledger (key, n) VALUES ($1, $2)', [
          envelope.correlationId,
          n,
        ]);
        await outbox.enqueue(manager, {
          topic: options.replies,
          type: 'batch.done',
          correlationId: envelope.correlationId,
          causationId: envelope.id,
          payload: { n },
        });
        if (failOnce && run === 1) throw new Error(`step ${n} fails once`);
        if (crash) options.crash?.(envelope);
      });
    }
  }

  @Module({ controllers: [StepHandler] })
  class LedgerModule {}
  return LedgerModule;
}
