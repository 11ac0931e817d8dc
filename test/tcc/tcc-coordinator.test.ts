import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager } from 'typeorm';
import { FlowReplyError } from '@app/dist-core/engine';
import { handleOnce, inboxMigrations } from '@app/dist-core/inbox';
import { defineMessages, participant, type Envelope } from '@app/dist-core/kafka';
import { decodeEnvelope } from '@app/dist-core/kafka/testing';
import { Outbox, outboxMigrations } from '@app/dist-core/outbox';
import { SnowflakeGenerator, fixedWorkerId } from '@app/dist-core/snowflake';
import { TccBarrier, type TccOp, type TryResult } from '@app/dist-core/barrier';
import { phaseTwoReplyPayload, tryReplyPayload } from '@app/dist-core/barrier/testing';
import {
  TccAlreadyBegunError,
  TccCoordinator,
  tccBarrierMigrations,
  tccCoordinatorMigrations,
  type TccDefinition,
} from '@app/dist-core/tcc';
import { openTccTestDatabase } from '../support/tcc-test-database.js';

/**
 * The coordinator against the real Postgres, with two participants (inventory, payment) that
 * run the real barrier, inbox and outbox. Messages travel from the outbox table to their
 * handlers through `deliver` below instead of Kafka, so each test chooses what arrives, when,
 * how often and in which order: duplicates, reordering, lateness and loss of an instance.
 */

const PARTICIPANTS = {
  inventory: participant('tcc-it.inventory'),
  payment: participant('tcc-it.payment'),
};
const COMMANDS = {
  inventory: PARTICIPANTS.inventory.commands,
  payment: PARTICIPANTS.payment.commands,
};
/** Each command and its reply type (`<command>.reply`), the reply on its sender's own topic. */
const MESSAGES = defineMessages(
  Object.fromEntries(
    Object.values(PARTICIPANTS).flatMap((p) =>
      ['try', 'confirm', 'cancel'].flatMap((op) => [
        [`${p.name}.${op}`, p.command()],
        [`${p.name}.${op}.reply`, p.reply()],
      ]),
    ),
  ),
);
const PRICE_CENTS = 250;

interface OrderInput {
  customerId: string;
  items: { sku: string; quantity: number }[];
}

const TABLES = [
  `CREATE TABLE IF NOT EXISTS tcc_it_stock (
     sku text PRIMARY KEY, price_cents integer NOT NULL,
     available integer NOT NULL CHECK (available >= 0),
     reserved integer NOT NULL CHECK (reserved >= 0),
     sold integer NOT NULL CHECK (sold >= 0))`,
  `CREATE TABLE IF NOT EXISTS tcc_it_accounts (
     customer_id text PRIMARY KEY,
     available integer NOT NULL CHECK (available >= 0),
     frozen integer NOT NULL CHECK (frozen >= 0),
     spent integer NOT NULL CHECK (spent >= 0))`,
  `CREATE TABLE IF NOT EXISTS tcc_it_orders (
     id text PRIMARY KEY, status text NOT NULL, reason text)`,
];

const ids = new SnowflakeGenerator(fixedWorkerId(911));
const outbox = new Outbox(ids);
const barrier = new TccBarrier();
let db: DataSource;

beforeAll(async () => {
  db = await openTccTestDatabase(
    [...outboxMigrations, ...inboxMigrations, ...tccBarrierMigrations, ...tccCoordinatorMigrations],
    5,
    TABLES,
  );
});

afterAll(async () => {
  await db?.destroy();
});

// ---- The participants: business changes behind the barrier, replies through the outbox ----

interface BranchPayload {
  gid: string;
  branch: string;
}
type InventoryPayload = BranchPayload & { items: OrderInput['items'] };
type PaymentPayload = BranchPayload & { customerId: string; amountCents: number };

interface Participant<P> {
  try(manager: EntityManager, payload: P): Promise<TryResult>;
  confirm(manager: EntityManager, payload: P): Promise<void>;
  cancel(manager: EntityManager, payload: P): Promise<void>;
}

/** Reserves every item, or none: a later item out of stock rolls back the earlier ones. */
const inventory: Participant<InventoryPayload> = {
  async try(manager, { items }) {
    let totalCents = 0;
    for (const { sku, quantity } of items) {
      const [rows] = await manager.query(
        `UPDATE tcc_it_stock SET available = available - $2, reserved = reserved + $2
          WHERE sku = $1 AND available >= $2 RETURNING price_cents`,
        [sku, quantity],
      );
      if (rows.length === 0) return { outcome: 'FAILURE', reason: 'OUT_OF_STOCK' };
      totalCents += rows[0].price_cents * quantity;
    }
    return { outcome: 'SUCCESS', totalCents };
  },
  async confirm(manager, { items }) {
    for (const { sku, quantity } of items) {
      await manager.query(
        `UPDATE tcc_it_stock SET reserved = reserved - $2, sold = sold + $2 WHERE sku = $1`,
        [sku, quantity],
      );
    }
  },
  async cancel(manager, { items }) {
    for (const { sku, quantity } of items) {
      await manager.query(
        `UPDATE tcc_it_stock SET reserved = reserved - $2, available = available + $2 WHERE sku = $1`,
        [sku, quantity],
      );
    }
  },
};

const payment: Participant<PaymentPayload> = {
  async try(manager, { customerId, amountCents }) {
    const [rows] = await manager.query(
      `UPDATE tcc_it_accounts SET available = available - $2, frozen = frozen + $2
        WHERE customer_id = $1 AND available >= $2 RETURNING 1`,
      [customerId, amountCents],
    );
    return rows.length === 1
      ? { outcome: 'SUCCESS' }
      : { outcome: 'FAILURE', reason: 'INSUFFICIENT_FUNDS' };
  },
  async confirm(manager, { customerId, amountCents }) {
    await manager.query(
      `UPDATE tcc_it_accounts SET frozen = frozen - $2, spent = spent + $2 WHERE customer_id = $1`,
      [customerId, amountCents],
    );
  },
  async cancel(manager, { customerId, amountCents }) {
    await manager.query(
      `UPDATE tcc_it_accounts SET frozen = frozen - $2, available = available + $2 WHERE customer_id = $1`,
      [customerId, amountCents],
    );
  },
};

/** A participant's command handler: inbox, barrier, business change and reply in one transaction. */
async function participate<P extends BranchPayload>(
  consumer: string,
  participant: Participant<P>,
  envelope: Envelope,
): Promise<string> {
  let status = 'duplicate delivery';
  await handleOnce(db, consumer, envelope, async (manager) => {
    const payload = envelope.payload as P;
    const key = { gid: payload.gid, branch: payload.branch };
    const op = envelope.type.split('.').at(-1) as TccOp;
    let reply: object;
    if (op === 'try') {
      const outcome = await barrier.try(manager, key, (m) => participant.try(m, payload));
      status = outcome.status;
      reply = tryReplyPayload(outcome);
    } else {
      const settle = op === 'confirm' ? barrier.confirm : barrier.cancel;
      const outcome = await settle.call(barrier, manager, key, (m) => participant[op](m, payload));
      status = outcome;
      reply = phaseTwoReplyPayload(outcome);
    }
    await outbox.enqueue(manager, {
      ...MESSAGES.route(`${envelope.type}.reply`),
      correlationId: envelope.correlationId,
      causationId: envelope.id,
      payload: reply,
    });
  });
  return status;
}

// ---- The order side: a definition whose hooks set the order's status ----

let kinds = 0;

/** A definition of a kind of its own, so one test's `tick` never drives another's rows. */
function orderDefinition(): TccDefinition<OrderInput> {
  return {
    kind: `tcc-it-${process.pid}-${Date.now()}-${++kinds}`,
    branches: [
      {
        name: 'inventory',
        topics: {
          try: COMMANDS.inventory,
          confirm: COMMANDS.inventory,
          cancel: COMMANDS.inventory,
        },
        types: {
          try: 'tcc-it.inventory.try',
          confirm: 'tcc-it.inventory.confirm',
          cancel: 'tcc-it.inventory.cancel',
        },
        tryPayload: ({ input }) => ({ items: input.items }),
      },
      {
        name: 'payment',
        topics: { try: COMMANDS.payment, confirm: COMMANDS.payment, cancel: COMMANDS.payment },
        types: {
          try: 'tcc-it.payment.try',
          confirm: 'tcc-it.payment.confirm',
          cancel: 'tcc-it.payment.cancel',
        },
        tryPayload: ({ input, results }) => ({
          customerId: input.customerId,
          amountCents: results.inventory.totalCents,
        }),
      },
    ],
    hooks: {
      onConfirmed: async (manager, tx) => {
        await manager.query(`UPDATE tcc_it_orders SET status = 'COMPLETED' WHERE id = $1`, [
          tx.gid,
        ]);
      },
      onCancelled: async (manager, tx, reason) => {
        await manager.query(
          `UPDATE tcc_it_orders SET status = 'CANCELLED', reason = $2 WHERE id = $1`,
          [tx.gid, reason],
        );
      },
    },
  };
}

/** One coordinator instance; two over the same definition are two service instances. */
function orderTcc(clock: { now(): number }, owner = 'instance-a', definition = orderDefinition()) {
  return new TccCoordinator(definition, outbox, {
    messages: MESSAGES,
    tryTimeoutMs: 5_000,
    backoff: { baseMs: 1_000, maxMs: 4_000 },
    leaseMs: 10_000,
    owner,
    clock,
    random: () => 0.5,
  });
}

function testClock() {
  let now = Date.now();
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

async function placeOrder(
  coordinator: TccCoordinator<OrderInput>,
  input: OrderInput,
): Promise<string> {
  const gid = ids.nextId();
  await db.transaction(async (manager) => {
    await manager.query(`INSERT INTO tcc_it_orders (id, status) VALUES ($1, 'PENDING')`, [gid]);
    await coordinator.begin(manager, gid, input);
  });
  return gid;
}

// ---- Message delivery: the outbox table read directly, in place of the relay and Kafka ----

/** Takes the order's messages not yet taken, oldest first, and marks them sent. */
async function take(gid: string): Promise<Envelope[]> {
  const [rows] = await db.query(
    `UPDATE outbox SET sent_at = now() WHERE key = $1 AND sent_at IS NULL RETURNING id, envelope`,
    [gid],
  );
  return (rows as { id: string; envelope: object }[])
    .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
    .map((row) => decodeEnvelope(Buffer.from(JSON.stringify(row.envelope))));
}

/** Hands one message to its consumer; says what the consumer did with it. */
async function deliver(coordinator: TccCoordinator<OrderInput>, envelope: Envelope) {
  if (envelope.type.startsWith('tcc-it.inventory.') && !envelope.type.endsWith('.reply')) {
    return participate('inventory:tcc', inventory, envelope);
  }
  if (envelope.type.startsWith('tcc-it.payment.') && !envelope.type.endsWith('.reply')) {
    return participate('payment:tcc', payment, envelope);
  }
  let result = 'duplicate delivery';
  await handleOnce(db, 'order:tcc-replies', envelope, async (manager) => {
    result = await coordinator.handleReply(manager, envelope);
  });
  return result;
}

/**
 * Delivers the order's messages until none are left, except those `hold` keeps back (a slow or
 * dead consumer); returns the held ones and a log of `type → result`.
 */
async function pump(
  coordinator: TccCoordinator<OrderInput>,
  gid: string,
  hold: (envelope: Envelope) => boolean = () => false,
) {
  const held: Envelope[] = [];
  const log: string[] = [];
  for (let batch = await take(gid); batch.length > 0; batch = await take(gid)) {
    for (const envelope of batch) {
      if (hold(envelope)) held.push(envelope);
      else log.push(`${envelope.type} → ${await deliver(coordinator, envelope)}`);
    }
  }
  return { held, log };
}

// ---- State of the world ----

async function seed(stock: Record<string, number>, balanceCents: number) {
  const suffix = ids.nextId();
  const skus = Object.fromEntries(Object.keys(stock).map((name) => [name, `${name}-${suffix}`]));
  for (const [name, quantity] of Object.entries(stock)) {
    await db.query(
      `INSERT INTO tcc_it_stock (sku, price_cents, available, reserved, sold) VALUES ($1, $2, $3, 0, 0)`,
      [skus[name], PRICE_CENTS, quantity],
    );
  }
  const customerId = `customer-${suffix}`;
  await db.query(
    `INSERT INTO tcc_it_accounts (customer_id, available, frozen, spent) VALUES ($1, $2, 0, 0)`,
    [customerId, balanceCents],
  );
  return { skus, customerId };
}

async function stockOf(sku: string) {
  const [row] = await db.query(
    `SELECT available, reserved, sold FROM tcc_it_stock WHERE sku = $1`,
    [sku],
  );
  return row;
}

async function accountOf(customerId: string) {
  const [row] = await db.query(
    `SELECT available, frozen, spent FROM tcc_it_accounts WHERE customer_id = $1`,
    [customerId],
  );
  return row;
}

/** Waits until some transaction's compare-and-set on tcc_transactions waits for a row lock. */
async function waitUntilBlockedOnTccRow() {
  for (let i = 0; i < 250; i++) {
    const rows = await db.query(
      `SELECT 1 FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'
          AND query LIKE '%UPDATE tcc_transactions%SET status%'`,
    );
    if (rows.length > 0) return;
    await sleep(20);
  }
  throw new Error('the racing reply never reached its compare-and-set');
}

async function orderOf(gid: string) {
  const [row] = await db.query(`SELECT status, reason FROM tcc_it_orders WHERE id = $1`, [gid]);
  return row;
}

describe('TccCoordinator on Postgres', () => {
  it('happy path: Try inventory, then payment with its total, then Confirm both', async () => {
    const coordinator = orderTcc(testClock());
    const { skus, customerId } = await seed({ a: 10 }, 10_000);
    const gid = await placeOrder(coordinator, {
      customerId,
      items: [{ sku: skus.a, quantity: 2 }],
    });

    const { log } = await pump(coordinator, gid);
    expect(log).toEqual([
      'tcc-it.inventory.try → applied',
      'tcc-it.inventory.try.reply → APPLIED',
      'tcc-it.payment.try → applied',
      'tcc-it.payment.try.reply → APPLIED',
      'tcc-it.inventory.confirm → applied',
      'tcc-it.payment.confirm → applied',
      'tcc-it.inventory.confirm.reply → APPLIED',
      'tcc-it.payment.confirm.reply → APPLIED',
    ]);
    const tx = await coordinator.find(db.manager, gid);
    expect(tx).toMatchObject({ status: 'CONFIRMED', reason: null, nextAttemptAt: null });
    expect(tx!.results.inventory).toEqual({ totalCents: 500 });
    expect(tx!.branches.map((b) => b.payload)).toEqual([
      { items: [{ sku: skus.a, quantity: 2 }] },
      { customerId, amountCents: 500 },
    ]);
    expect(tx!.history.map((h) => `${h.step} ${h.outcome}`)).toEqual([
      'inventory.try SUCCESS',
      'payment.try SUCCESS',
      'inventory.confirm SUCCESS',
      'payment.confirm SUCCESS',
    ]);
    expect(await orderOf(gid)).toEqual({ status: 'COMPLETED', reason: null });
    expect(await stockOf(skus.a)).toEqual({ available: 8, reserved: 0, sold: 2 });
    expect(await accountOf(customerId)).toEqual({ available: 9_500, frozen: 0, spent: 500 });

    await expect(
      db.transaction((m) => coordinator.begin(m, gid, { customerId, items: [] })),
    ).rejects.toBeInstanceOf(TccAlreadyBegunError);
  });

  it("takes a branch's reply only from its participant: another's is refused and changes nothing", async () => {
    const coordinator = orderTcc(testClock());
    const { skus, customerId } = await seed({ a: 10 }, 10_000);
    const gid = await placeOrder(coordinator, {
      customerId,
      items: [{ sku: skus.a, quantity: 1 }],
    });
    const [inventoryTry] = await take(gid);
    const before = await coordinator.find(db.manager, gid);
    // Payment's reply type (its own topic) answering the command inventory was asked.
    const forged: Envelope = {
      id: ids.nextId(),
      type: 'tcc-it.payment.try.reply',
      correlationId: gid,
      causationId: inventoryTry.id,
      createdAt: new Date().toISOString(),
      payload: { outcome: 'SUCCESS', totalCents: 1 },
    };
    await expect(deliver(coordinator, forged)).rejects.toThrow(FlowReplyError);
    await expect(deliver(coordinator, forged)).rejects.toThrow(/comes from tcc-it.payment/);
    expect(await coordinator.find(db.manager, gid)).toEqual(before);
    expect(await take(gid)).toEqual([]);

    // The real participant's answer still applies.
    expect(await deliver(coordinator, inventoryTry)).toBe('applied');
    const { log } = await pump(coordinator, gid);
    expect(log[0]).toBe('tcc-it.inventory.try.reply → APPLIED');
    expect(await orderOf(gid)).toEqual({ status: 'COMPLETED', reason: null });
  });

  it('a failed Try cancels every tried branch: payment refuses, inventory is released', async () => {
    const coordinator = orderTcc(testClock());
    const { skus, customerId } = await seed({ a: 10 }, 100);
    const gid = await placeOrder(coordinator, {
      customerId,
      items: [{ sku: skus.a, quantity: 2 }],
    });

    const { log } = await pump(coordinator, gid);
    expect(log).toContain('tcc-it.payment.cancel → null-compensation');
    expect(log).toContain('tcc-it.inventory.cancel → applied');
    expect(await coordinator.find(db.manager, gid)).toMatchObject({
      status: 'CANCELLED',
      reason: 'INSUFFICIENT_FUNDS',
    });
    expect(await orderOf(gid)).toEqual({ status: 'CANCELLED', reason: 'INSUFFICIENT_FUNDS' });
    expect(await stockOf(skus.a)).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await accountOf(customerId)).toEqual({ available: 100, frozen: 0, spent: 0 });
  });

  it('an item out of stock fails the Try whole: the items before it are not left reserved', async () => {
    const coordinator = orderTcc(testClock());
    const { skus, customerId } = await seed({ a: 10, b: 1 }, 10_000);
    const items = [
      { sku: skus.a, quantity: 3 },
      { sku: skus.b, quantity: 2 },
    ];
    const gid = await placeOrder(coordinator, { customerId, items });

    const { log } = await pump(coordinator, gid);
    expect(log).toEqual([
      'tcc-it.inventory.try → applied',
      'tcc-it.inventory.try.reply → APPLIED',
      'tcc-it.inventory.cancel → null-compensation',
      'tcc-it.inventory.cancel.reply → APPLIED',
    ]);
    expect(await orderOf(gid)).toEqual({ status: 'CANCELLED', reason: 'OUT_OF_STOCK' });
    expect(await stockOf(skus.a)).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await stockOf(skus.b)).toEqual({ available: 1, reserved: 0, sold: 0 });
  });

  it('a Try that never answers times out: Cancel all, the late Try is refused', async () => {
    const clock = testClock();
    const coordinator = orderTcc(clock);
    const { skus, customerId } = await seed({ a: 10 }, 10_000);
    const gid = await placeOrder(coordinator, {
      customerId,
      items: [{ sku: skus.a, quantity: 2 }],
    });

    // Payment is down: its Try waits in the queue.
    const first = await pump(coordinator, gid, (e) => e.type === 'tcc-it.payment.try');
    expect(first.held.map((e) => e.type)).toEqual(['tcc-it.payment.try']);
    expect(await coordinator.tick(db)).toBe(0); // not due yet

    clock.advance(5_000);
    expect(await coordinator.tick(db)).toBe(1);
    expect(await coordinator.find(db.manager, gid)).toMatchObject({
      status: 'CANCELLING',
      reason: 'TIMEOUT',
    });

    // Payment comes back: the Cancel overtakes the Try (another partition, a retry, …).
    const second = await pump(coordinator, gid);
    expect(second.log).toContain('tcc-it.payment.cancel → null-compensation');
    expect(second.log).toContain('tcc-it.inventory.cancel → applied');
    const late = await deliver(coordinator, first.held[0]);
    expect(late).toBe('refused');
    const lateReply = await pump(coordinator, gid);
    expect(lateReply.log).toEqual(['tcc-it.payment.try.reply → FINISHED']);

    const tx = await coordinator.find(db.manager, gid);
    expect(tx!.history.map((h) => `${h.step} ${h.outcome}`)).toEqual([
      'inventory.try SUCCESS',
      'payment.try TIMEOUT',
      'inventory.cancel SUCCESS',
      'payment.cancel SUCCESS',
    ]);
    expect(await orderOf(gid)).toEqual({ status: 'CANCELLED', reason: 'TIMEOUT' });
    expect(await stockOf(skus.a)).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await accountOf(customerId)).toEqual({ available: 10_000, frozen: 0, spent: 0 });
  });

  it('duplicate, copied and racing replies are applied once', async () => {
    const coordinator = orderTcc(testClock());
    const { skus, customerId } = await seed({ a: 10 }, 10_000);
    const gid = await placeOrder(coordinator, {
      customerId,
      items: [{ sku: skus.a, quantity: 1 }],
    });

    // Inventory's Try reply: delivered twice by Kafka, and once more as a copy with a new id
    // (which the inbox cannot recognise: only the causation check stops it).
    await deliver(coordinator, (await take(gid))[0]);
    const [tryReply] = await take(gid);
    expect(await deliver(coordinator, tryReply)).toBe('APPLIED');
    expect(await deliver(coordinator, tryReply)).toBe('duplicate delivery');
    expect(await deliver(coordinator, { ...tryReply, id: ids.nextId() })).toBe('NOT_AWAITED');

    await deliver(coordinator, (await take(gid))[0]); // payment Try
    await deliver(coordinator, (await take(gid))[0]); // its reply → Confirm both
    const confirms = await take(gid);
    expect(confirms.map((e) => e.type)).toEqual([
      'tcc-it.inventory.confirm',
      'tcc-it.payment.confirm',
    ]);
    for (const command of confirms) await deliver(coordinator, command);
    // Both Confirm replies at once: the second reads the transaction while the first has
    // changed it but not committed, so its compare-and-set loses; it must re-read and apply.
    const [first, second] = await take(gid);
    const runner = db.createQueryRunner();
    await runner.startTransaction();
    expect(await coordinator.handleReply(runner.manager, first)).toBe('APPLIED');
    const racing = db.transaction((m) => coordinator.handleReply(m, second));
    await waitUntilBlockedOnTccRow();
    await runner.commitTransaction();
    await runner.release();
    expect(await racing).toBe('APPLIED');

    const tx = await coordinator.find(db.manager, gid);
    expect(tx!.status).toBe('CONFIRMED');
    expect(tx!.history).toHaveLength(4);
    expect(await accountOf(customerId)).toEqual({ available: 9_750, frozen: 0, spent: 250 });
    expect(await stockOf(skus.a)).toEqual({ available: 9, reserved: 0, sold: 1 });
  });

  it('recovers after an abandoned lease: another instance re-sends Confirm, spent once', async () => {
    const clock = testClock();
    const definition = orderDefinition();
    const instanceA = orderTcc(clock, 'instance-a', definition);
    const instanceB = orderTcc(clock, 'instance-b', definition);
    const { skus, customerId } = await seed({ a: 10 }, 10_000);
    const gid = await placeOrder(instanceA, { customerId, items: [{ sku: skus.a, quantity: 4 }] });

    // Both Trys succeed; the Confirm to payment is lost with the broker's disk, say.
    const { held } = await pump(instanceA, gid, (e) => e.type === 'tcc-it.payment.confirm');
    expect(held).toHaveLength(1);
    expect((await instanceA.find(db.manager, gid))!.status).toBe('CONFIRMING');

    // The re-send is due; instance A claims it and dies before driving it.
    clock.advance(1_000);
    expect(await instanceA.claimDue(db)).toEqual([gid]);
    expect(await instanceB.tick(db)).toBe(0); // A's lease keeps B off
    clock.advance(10_000);
    expect(await instanceB.tick(db)).toBe(1); // the lease ran out: B drives it

    const { log } = await pump(instanceB, gid);
    expect(log).toEqual([
      'tcc-it.payment.confirm → applied',
      'tcc-it.payment.confirm.reply → APPLIED',
    ]);
    // The lost Confirm turns up after all: the barrier and the causation check absorb it.
    expect(await deliver(instanceB, held[0])).toBe('duplicate');
    expect((await pump(instanceB, gid)).log).toEqual(['tcc-it.payment.confirm.reply → FINISHED']);

    const tx = await instanceB.find(db.manager, gid);
    expect(tx).toMatchObject({ status: 'CONFIRMED', attempts: 2, leaseOwner: null });
    expect(await orderOf(gid)).toEqual({ status: 'COMPLETED', reason: null });
    expect(await accountOf(customerId)).toEqual({ available: 9_000, frozen: 0, spent: 1_000 });
    expect(await stockOf(skus.a)).toEqual({ available: 6, reserved: 0, sold: 4 });
  });
});
