// An orchestrator process SIGKILLed in the middle of a saga transition: after its claim
// committed, inside the transaction that has already compare-and-set the saga and enqueued
// the retry command. Postgres rolls that transaction back, so nothing of it is visible; the
// claim's lease is the only trace, and once it expires another instance drives the saga on.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Outbox } from '@app/dist-core/outbox';
import { SagaOrchestrator } from '@app/dist-core/saga';
import { SnowflakeGenerator, fixedWorkerId } from '@app/dist-core/snowflake';
import {
  ManualClock,
  TEST_SAGA_OPTIONS,
  commandsOf,
  deliverReply,
  lastCommand,
  openSagaSchema,
  orderSagaWithHooks,
  replyTo,
} from './support/saga-db.js';

const SCHEMA = 'saga_crash_test';
const CHILD = fileURLToPath(new URL('./support/saga-crash-child.ts', import.meta.url));
const ids = new SnowflakeGenerator(fixedWorkerId(903));

let db: DataSource;

// Explicit timeouts: Jest applies only a top-level testTimeout, not the integration project's.
beforeAll(async () => {
  db = await openSagaSchema(SCHEMA);
}, 30_000);

afterAll(async () => {
  await db?.destroy();
});

/** Runs the child until it prints ENQUEUED, then SIGKILLs it; returns the command id it had. */
async function killChildMidTransition(now: number): Promise<string> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CHILD], {
    env: { ...process.env, NODE_OPTIONS: '', SAGA_SCHEMA: SCHEMA, SAGA_NOW: String(now) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`child never froze: ${stderr.join('')}`)),
        30_000,
      );
      createInterface({ input: child.stdout }).on('line', (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      child.once('exit', (code) => reject(new Error(`child exited ${code}: ${stderr.join('')}`)));
    });
    const [, commandId] = /^ENQUEUED (\d+)$/.exec(line) ?? [];
    if (!commandId) throw new Error(`unexpected child output: ${line}`);
    return commandId;
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

describe('saga recovery after a SIGKILL in the middle of a transition', () => {
  it('loses nothing, duplicates nothing, and the saga completes on another instance', async () => {
    const clock = new ManualClock();
    const saga = new SagaOrchestrator([orderSagaWithHooks], new Outbox(ids), {
      ...TEST_SAGA_OPTIONS,
      owner: 'survivor',
      clock,
    });
    const id = ids.nextId();
    await db.transaction(async (manager) => {
      await manager.query(`INSERT INTO example_orders (id, status) VALUES ($1, 'PENDING')`, [id]);
      await saga.start(manager, 'example-order', id, {
        customerId: 'bob',
        items: [{ sku: 'apple', quantity: 1 }],
      });
    });
    clock.advance(1_000);
    expect(await saga.tick(db)).toBe(1); // the reserve timed out: a retry is due after 100 ms
    clock.advance(100);
    const before = await saga.find(db.manager, id);

    const lostCommandId = await killChildMidTransition(clock.now());

    // The child's claim had committed; its transition had not.
    const after = await saga.find(db.manager, id);
    expect(after).toMatchObject({ leaseOwner: 'crash-child', version: before?.version });
    expect(await db.query(`SELECT id FROM outbox WHERE id = $1`, [lostCommandId])).toEqual([]);
    expect(await saga.tick(db)).toBe(0); // the lease still keeps other instances off

    clock.advance(TEST_SAGA_OPTIONS.leaseMs!);
    expect(await saga.tick(db)).toBe(1);
    const reserves = await commandsOf(db, id);
    expect(reserves.map((c) => c.type)).toEqual(['stock.reserve', 'stock.reserve']);
    expect(reserves.map((c) => c.id)).not.toContain(lostCommandId);

    for (const payload of [{ unitPriceCents: { apple: 150 } }, {}, {}]) {
      const command = await lastCommand(db, id);
      await deliverReply(db, saga, replyTo(ids, id, command, { outcome: 'SUCCESS', ...payload }));
    }
    expect(await saga.find(db.manager, id)).toMatchObject({ status: 'COMPLETED' });
    expect(await db.query(`SELECT status FROM example_orders WHERE id = $1`, [id])).toEqual([
      { status: 'COMPLETED' },
    ]);
    expect((await commandsOf(db, id)).map((c) => c.type)).toEqual([
      'stock.reserve',
      'stock.reserve',
      'payment.charge',
      'stock.confirm',
      // The completed saga closes the charge's branch for good (no refund can follow).
      'payment.settle',
    ]);
  }, 60_000);
});
