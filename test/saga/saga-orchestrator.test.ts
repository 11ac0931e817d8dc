// The saga orchestrator on the real Postgres, its commands going through the real Outbox into
// the real `outbox` table (asserted on its rows; the relay and Kafka are the messaging tests'
// concern). Replies arrive as the order service's handler delivers them: inbox + handleReply
// in one transaction. A manual clock drives deadlines, so timeouts need no sleeping.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Outbox } from '@app/dist-core/outbox';
import { FlowReplyError } from '@app/dist-core/engine';
import {
  countParkedSagas,
  SagaOrchestrator,
  type SagaOrchestratorOptions,
} from '@app/dist-core/saga';
import type { ExampleOrderData } from '@app/dist-core/saga/testing';
import { SnowflakeGenerator, fixedWorkerId, systemClock } from '@app/dist-core/snowflake';
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

const SCHEMA = 'saga_orchestrator_test';
const ids = new SnowflakeGenerator(fixedWorkerId(901));
const PRICES = { outcome: 'SUCCESS' as const, unitPriceCents: { apple: 150, pear: 300 } };
const OK = { outcome: 'SUCCESS' as const };
const DATA: ExampleOrderData = {
  customerId: 'alice',
  items: [
    { sku: 'apple', quantity: 2 },
    { sku: 'pear', quantity: 1 },
  ],
};

let db: DataSource;
let clock: ManualClock;

function orchestrator(options: Partial<SagaOrchestratorOptions> = {}): SagaOrchestrator {
  return new SagaOrchestrator([orderSagaWithHooks], new Outbox(ids), {
    ...TEST_SAGA_OPTIONS,
    clock,
    ...options,
  });
}

/** What the order service does on POST /orders: the order row and the saga, one transaction. */
async function placeOrder(saga: SagaOrchestrator): Promise<string> {
  const id = ids.nextId();
  await db.transaction(async (manager) => {
    await manager.query(`INSERT INTO example_orders (id, status) VALUES ($1, 'PENDING')`, [id]);
    await saga.start(manager, 'example-order', id, DATA);
  });
  return id;
}

async function answerLast(saga: SagaOrchestrator, sagaId: string, payload: object) {
  const command = await lastCommand(db, sagaId);
  return deliverReply(db, saga, replyTo(ids, sagaId, command, payload as typeof OK));
}

async function order(id: string): Promise<{ status: string; reason: string | null }> {
  const [row] = await db.query(`SELECT status, reason FROM example_orders WHERE id = $1`, [id]);
  return row;
}

async function steps(saga: SagaOrchestrator, id: string): Promise<string[]> {
  return (await saga.history(db.manager, id)).map((h) => `${h.step}:${h.outcome}`);
}

// Explicit timeouts: Jest applies only a top-level testTimeout, not the integration project's.
beforeAll(async () => {
  db = await openSagaSchema(SCHEMA);
}, 30_000);

// Each test counts what `tick` moves, so it starts from empty tables and its own clock.
beforeEach(async () => {
  await db.query(`TRUNCATE saga_steps, saga_instances, outbox, inbox, example_orders`);
  clock = new ManualClock();
});

afterAll(async () => {
  await db?.destroy();
});

describe('SagaOrchestrator on Postgres', () => {
  it('happy path: each reply sends the next command, and the order completes with the saga', async () => {
    const saga = orchestrator();
    const id = await placeOrder(saga);

    expect(await answerLast(saga, id, PRICES)).toBe('APPLIED');
    expect(await answerLast(saga, id, OK)).toBe('APPLIED');
    expect(await answerLast(saga, id, OK)).toBe('APPLIED');

    const commands = await commandsOf(db, id);
    expect(commands.map((c) => c.type)).toEqual([
      'stock.reserve',
      'payment.charge',
      'stock.confirm',
      'payment.settle',
    ]);
    expect(commands[0]).toMatchObject({ topic: 'example.inventory.commands', causationId: null });
    // The settlement went out in the completing transaction, caused by the last reply.
    expect(commands[3].causationId).not.toBeNull();
    expect(commands[3]).toMatchObject({
      topic: 'example.payment.commands',
      payload: { customerId: 'alice' },
    });
    // Its reply, when it comes, finds the saga finished and changes nothing.
    expect(await deliverReply(db, saga, replyTo(ids, id, commands[3], OK))).toBe('FINISHED');
    // The charge carries the prices the reservation's reply brought (2·150 + 300).
    expect(commands[1].payload).toEqual({ customerId: 'alice', amountCents: 600 });
    const instance = await saga.find(db.manager, id);
    expect(instance).toMatchObject({
      status: 'COMPLETED',
      currentStep: 'confirmStock',
      awaitedCommandId: null,
      data: { unitPriceCents: { apple: 150, pear: 300 } },
    });
    expect(await order(id)).toEqual({ status: 'COMPLETED', reason: null });
    expect(await steps(saga, id)).toEqual([
      'reserveStock:SUCCESS',
      'takePayment:SUCCESS',
      'confirmStock:SUCCESS',
    ]);
  });

  it("takes a reply only from the participant asked: another's is refused and changes nothing", async () => {
    const saga = orchestrator();
    const id = await placeOrder(saga);
    const reserve = await lastCommand(db, id);
    const before = await saga.find(db.manager, id);
    // Payment's reply type answering the command inventory was asked.
    const forged = { ...replyTo(ids, id, reserve, PRICES), type: 'payment.charge.reply' };
    await expect(deliverReply(db, saga, forged)).rejects.toThrow(FlowReplyError);
    await expect(deliverReply(db, saga, forged)).rejects.toThrow(
      /command to example.inventory but comes from example.payment/,
    );
    expect(await saga.find(db.manager, id)).toEqual(before);
    expect(await commandsOf(db, id)).toHaveLength(1);
    // The real participant's answer still applies.
    expect(await answerLast(saga, id, PRICES)).toBe('APPLIED');
    expect((await lastCommand(db, id)).type).toBe('payment.charge');
  });

  it("reads history rows written in the earlier words as the one vocabulary's", async () => {
    const saga = orchestrator();
    const id = await placeOrder(saga);
    const rows = [
      ['reserveStock', 'action', 'SUCCEEDED'],
      ['takePayment', 'action', 'TIMED_OUT'],
      ['takePayment', 'action', 'FAILED'],
      ['reserveStock', 'compensation', 'COMPENSATED'],
    ];
    for (const [step, kind, outcome] of rows) {
      await db.query(
        `INSERT INTO saga_steps (saga_id, step, kind, attempt, outcome, at)
         VALUES ($1, $2, $3, 1, $4, now())`,
        [id, step, kind, outcome],
      );
    }
    expect((await steps(saga, id)).slice(-4)).toEqual([
      'reserveStock:SUCCESS',
      'takePayment:TIMEOUT',
      'takePayment:FAILURE',
      'reserveStock.compensation:SUCCESS',
    ]);
  });

  it('a failure in step 2 compensates step 1, and cancels the order with its reason', async () => {
    const saga = orchestrator();
    const id = await placeOrder(saga);
    await answerLast(saga, id, PRICES);
    await answerLast(saga, id, { outcome: 'FAILURE', reason: 'INSUFFICIENT_FUNDS' });

    expect((await commandsOf(db, id)).map((c) => c.type)).toEqual([
      'stock.reserve',
      'payment.charge',
      'stock.release',
    ]);
    expect(await saga.find(db.manager, id)).toMatchObject({ status: 'COMPENSATING' });
    expect(await order(id)).toEqual({ status: 'PENDING', reason: null });

    await answerLast(saga, id, OK);
    expect(await saga.find(db.manager, id)).toMatchObject({
      status: 'COMPENSATED',
      failureReason: 'INSUFFICIENT_FUNDS',
    });
    expect(await order(id)).toEqual({ status: 'CANCELLED', reason: 'INSUFFICIENT_FUNDS' });
    expect(await steps(saga, id)).toEqual([
      'reserveStock:SUCCESS',
      'takePayment:FAILURE',
      'reserveStock.compensation:SUCCESS',
    ]);
  });

  it('a duplicate reply is applied once: by the inbox (same message) and by the awaited id (a copy)', async () => {
    const saga = orchestrator();
    const id = await placeOrder(saga);
    const reserve = await lastCommand(db, id);
    const reply = replyTo(ids, id, reserve, PRICES);

    expect(await deliverReply(db, saga, reply)).toBe('APPLIED');
    expect(await deliverReply(db, saga, reply)).toBe('duplicate');
    // The participant answered twice (say, to a redelivered command): a new message, same cause.
    expect(await deliverReply(db, saga, { ...reply, id: ids.nextId() })).toBe('NOT_AWAITED');

    expect((await commandsOf(db, id)).map((c) => c.type)).toEqual([
      'stock.reserve',
      'payment.charge',
    ]);
    expect(await saga.find(db.manager, id)).toMatchObject({
      currentStep: 'takePayment',
      version: '1',
    });
  });

  it('two copies of a reply racing in two transactions: exactly one applies', async () => {
    const saga = orchestrator();
    const id = await placeOrder(saga);
    const reserve = await lastCommand(db, id);
    const results = await Promise.all([
      deliverReply(db, saga, replyTo(ids, id, reserve, PRICES)),
      deliverReply(db, saga, replyTo(ids, id, reserve, PRICES)),
    ]);
    expect(results.sort()).toEqual(['APPLIED', 'NOT_AWAITED']);
    expect((await commandsOf(db, id)).map((c) => c.type)).toEqual([
      'stock.reserve',
      'payment.charge',
    ]);
  });

  it('a late reply to a command that timed out is ignored; the retry is the same request, a new message', async () => {
    const saga = orchestrator();
    const id = await placeOrder(saga);
    const first = await lastCommand(db, id);

    clock.advance(1_000);
    expect(await saga.tick(db)).toBe(1); // reply deadline → backoff, nothing awaited
    expect(await answerLast(saga, id, PRICES)).toBe('NOT_AWAITED');
    clock.advance(100); // backoff: 100·2⁰ with jitter at its maximum
    expect(await saga.tick(db)).toBe(1);

    const reserves = await commandsOf(db, id);
    expect(reserves).toHaveLength(2);
    expect(reserves[1].id).not.toBe(first.id);
    expect(reserves[1]).toMatchObject({ type: first.type, payload: first.payload });
    expect(await deliverReply(db, saga, replyTo(ids, id, first, PRICES))).toBe('NOT_AWAITED');
    expect(await deliverReply(db, saga, replyTo(ids, id, reserves[1], PRICES))).toBe('APPLIED');
    expect(await steps(saga, id)).toEqual(['reserveStock:TIMEOUT', 'reserveStock:SUCCESS']);
  });

  it('a silent participant: retries run out, the uncertain step and those before it are compensated (TIMEOUT)', async () => {
    const saga = orchestrator();
    const id = await placeOrder(saga);
    await answerLast(saga, id, PRICES);
    for (const wait of [1_000, 100, 1_000]) {
      clock.advance(wait);
      expect(await saga.tick(db)).toBe(1);
    }
    expect((await commandsOf(db, id)).map((c) => c.type)).toEqual([
      'stock.reserve',
      'payment.charge',
      'payment.charge',
      'payment.refund',
    ]);
    await answerLast(saga, id, OK);
    await answerLast(saga, id, OK);
    expect(await order(id)).toEqual({ status: 'CANCELLED', reason: 'TIMEOUT' });
  });

  it('the saga deadline compensates with TIMEOUT', async () => {
    const saga = orchestrator({ sagaTimeoutMs: 800 });
    const id = await placeOrder(saga);
    clock.advance(800);
    expect(await saga.tick(db)).toBe(1);
    expect(await lastCommand(db, id)).toMatchObject({ type: 'stock.release' });
    expect(await saga.find(db.manager, id)).toMatchObject({
      status: 'COMPENSATING',
      failureReason: 'TIMEOUT',
      sagaDeadline: null,
    });
  });

  it('a reply and its timeout racing: the timeout waits on the reply’s row lock, then loses its compare-and-set', async () => {
    const saga = orchestrator();
    const id = await placeOrder(saga);
    const reserve = await lastCommand(db, id);

    const replying = db.createQueryRunner();
    await replying.connect();
    await replying.startTransaction();
    try {
      clock.advance(999); // the reply, just in time
      expect(await saga.handleReply(replying.manager, replyTo(ids, id, reserve, PRICES))).toBe(
        'APPLIED',
      );
      clock.advance(1); // the reserve's deadline, as the still-committed row says
      const driving = saga.drive(db, id);
      await waitForLockWait();
      await replying.commitTransaction();
      expect(await driving).toBe(false);
    } finally {
      await replying.release();
    }
    expect(await steps(saga, id)).toEqual(['reserveStock:SUCCESS']);
    expect((await commandsOf(db, id)).map((c) => c.type)).toEqual([
      'stock.reserve',
      'payment.charge',
    ]);
  });

  it('…and the other way round: a timeout committed first makes the reply NOT_AWAITED', async () => {
    const saga = orchestrator();
    const id = await placeOrder(saga);
    const reserve = await lastCommand(db, id);
    clock.advance(1_000);
    expect(await saga.drive(db, id)).toBe(true);
    expect(await deliverReply(db, saga, replyTo(ids, id, reserve, PRICES))).toBe('NOT_AWAITED');
    expect(await steps(saga, id)).toEqual(['reserveStock:TIMEOUT']);
  });

  it('a claim abandoned by a crashed instance is picked up by another once its lease expires', async () => {
    const crashed = orchestrator({ owner: 'crashed' });
    const survivor = orchestrator({ owner: 'survivor' });
    const id = await placeOrder(crashed);
    clock.advance(1_000);

    expect(await crashed.claimDue(db)).toEqual([id]); // ...and then the process dies
    expect(await survivor.tick(db)).toBe(0); // the lease keeps it off while it may be alive
    clock.advance(5_000);
    expect(await survivor.tick(db)).toBe(1);
    expect(await survivor.find(db.manager, id)).toMatchObject({
      leaseOwner: null,
      attempt: 1,
      awaitedCommandId: null,
    });
    expect(await steps(survivor, id)).toEqual(['reserveStock:TIMEOUT']);
    clock.advance(100);
    expect(await survivor.tick(db)).toBe(1);
    expect((await commandsOf(db, id)).map((c) => c.type)).toEqual([
      'stock.reserve',
      'stock.reserve',
    ]);
  });

  it('a compensation that keeps failing parks the saga: visible, counted, untouched by ticks, and an admin retry finishes it', async () => {
    const saga = orchestrator();
    const id = await placeOrder(saga);
    await answerLast(saga, id, PRICES);
    await answerLast(saga, id, { outcome: 'FAILURE', reason: 'INSUFFICIENT_FUNDS' });
    for (const wait of [100, 200]) {
      await answerLast(saga, id, { outcome: 'FAILURE', reason: 'DB_DOWN' });
      clock.advance(wait);
      expect(await saga.tick(db)).toBe(1);
    }
    await answerLast(saga, id, { outcome: 'FAILURE', reason: 'DB_DOWN' });

    const parked = await saga.find(db.manager, id);
    expect(parked).toMatchObject({
      status: 'PARKED',
      parkedFrom: 'COMPENSATING',
      currentStep: 'reserveStock',
      failureReason: 'INSUFFICIENT_FUNDS',
    });
    expect(parked?.parkedReason).toMatch(
      /compensation reserveStock failed 3 times \(last: DB_DOWN\)/,
    );
    expect((await saga.listParked(db.manager)).map((s) => s.id)).toContain(id);
    expect((await countParkedSagas(db.manager)).get('example-order')).toBeGreaterThanOrEqual(1);
    clock.advance(3_600_000);
    await saga.tick(db);
    expect(await saga.find(db.manager, id)).toMatchObject({
      status: 'PARKED',
      version: parked?.version,
    });
    expect(await order(id)).toEqual({ status: 'PENDING', reason: null });

    const resumed = await saga.retryParked(db, id);
    expect(resumed).toMatchObject({ status: 'COMPENSATING', attempt: 1, parkedReason: null });
    expect(resumed.awaitedCommandId).toBe((await lastCommand(db, id)).id);
    await answerLast(saga, id, OK);
    expect(await order(id)).toEqual({ status: 'CANCELLED', reason: 'INSUFFICIENT_FUNDS' });
    expect((await commandsOf(db, id)).filter((c) => c.type === 'stock.release')).toHaveLength(4);
    expect((await steps(saga, id)).slice(-3)).toEqual([
      'reserveStock.compensation:PARKED',
      'reserveStock.compensation:RESUMED',
      'reserveStock.compensation:SUCCESS',
    ]);
    await expect(saga.retryParked(db, id)).rejects.toThrow(/not PARKED/);
  });

  it('refuses a reply that is not one (poison), so the inbox layer dead-letters it', async () => {
    const saga = orchestrator();
    const id = await placeOrder(saga);
    const reserve = await lastCommand(db, id);
    const bad = { ...replyTo(ids, id, reserve, PRICES), payload: { outcome: 'MAYBE' } };
    await expect(deliverReply(db, saga, bad)).rejects.toThrow(/outcome must be SUCCESS or FAILURE/);
    expect(await saga.find(db.manager, id)).toMatchObject({
      version: '0',
      currentStep: 'reserveStock',
    });
  });

  it('refuses to start a saga or take a reply outside a transaction', async () => {
    const saga = orchestrator();
    const id = ids.nextId();
    await expect(saga.start(db.manager, 'example-order', id, DATA)).rejects.toThrow(
      /inside the caller's transaction/,
    );
    expect(await saga.find(db.manager, id)).toBeNull();
    const placed = await placeOrder(saga);
    const reply = replyTo(ids, placed, await lastCommand(db, placed), PRICES);
    await expect(saga.handleReply(db.manager, reply)).rejects.toThrow(/inside the caller's/);
  });

  it('the recovery loop drives due sagas in real time, and stops cleanly', async () => {
    const saga = orchestrator({
      clock: systemClock,
      stepTimeoutMs: 150,
      backoff: { baseMs: 50, maxMs: 50 },
    });
    const id = await placeOrder(saga);
    const recovery = saga.recovery(db, { intervalMs: 25 });
    recovery.start();
    try {
      const deadline = Date.now() + 10_000;
      while ((await saga.find(db.manager, id))?.status !== 'COMPENSATING') {
        if (Date.now() > deadline) throw new Error('recovery never compensated the silent saga');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } finally {
      await recovery.stop();
    }
    expect((await commandsOf(db, id)).map((c) => c.type)).toEqual([
      'stock.reserve',
      'stock.reserve',
      'stock.release',
    ]);
  });
});

/** Until some backend of this test database waits on a lock (the drive's compare-and-set). */
async function waitForLockWait(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'
          AND query LIKE '%UPDATE saga_instances%version = version + 1%'`,
    );
    if (n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the drive never waited on the reply’s row lock');
}
