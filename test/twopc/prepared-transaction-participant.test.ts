import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { inboxMigrations } from '@app/dist-core/inbox';
import { InvalidMessageError, type Envelope, type KafkaClient } from '@app/dist-core/kafka';
import { AfterCommitPublisher, Outbox, outboxMigrations } from '@app/dist-core/outbox';
import { fixedWorkerId, SnowflakeGenerator } from '@app/dist-core/snowflake';
import {
  PreparedTransactionParticipant,
  PrepareDeferredError,
  twoPcParticipantMigrations,
  type Vote,
} from '@app/dist-core/twopc';
import {
  openTwoPcTestDatabase,
  preparedGids,
  rawClient,
  rollbackAllPrepared,
} from '../support/prepared-transactions.js';
import { connectKafka, eventually, runSuffix, TopicRecorder } from '../support/kafka.js';

/**
 * The participant side of 2PC against the real Postgres: what a prepared transaction holds and
 * shows, and every redelivery, reordering and crash point of one branch. The business is one
 * stock row per SKU (available → sold); CHECKs make a double sale or an oversell fail loudly.
 */

const DATABASE = 'test_twopc';
const REPLY = { topic: 'inventory.replies', type: 'inventory.2pc.reply' };
const ids = new SnowflakeGenerator(fixedWorkerId(931));

interface Lines {
  orderId: string;
  items: Array<{ sku: string; quantity: number }>;
}

let dataSource: DataSource;
let participant: PreparedTransactionParticipant;
let observer: pg.Client;

/** The business change: sell every line, or vote no. */
async function sell(manager: EntityManager, { items }: Lines): Promise<Vote> {
  for (const { sku, quantity } of items) {
    const [rows] = (await manager.query(
      `UPDATE stock SET available = available - $2, sold = sold + $2
       WHERE sku = $1 AND available >= $2 RETURNING 1`,
      [sku, quantity],
    )) as [unknown[], number];
    if (rows.length === 0) return { outcome: 'FAILURE', reason: 'OUT_OF_STOCK' };
  }
  return { outcome: 'SUCCESS', totalCents: items.reduce((sum, l) => sum + l.quantity * 100, 0) };
}

const sameItems = (items: Lines['items']) => (recorded: unknown) =>
  JSON.stringify((recorded as Lines).items) === JSON.stringify(items);

function envelope(type: string, lines: Lines): Envelope<Lines> {
  return {
    id: ids.nextId(),
    type,
    correlationId: lines.orderId,
    causationId: null,
    createdAt: new Date().toISOString(),
    payload: lines,
  };
}

const prepare = (command: Envelope<Lines>) =>
  participant.prepare(command, REPLY, command.payload, (manager) => sell(manager, command.payload));
const commit = (command: Envelope<Lines>) =>
  participant.commit(command, REPLY, sameItems(command.payload.items));
const rollback = (command: Envelope<Lines>) =>
  participant.rollback(command, REPLY, command.payload, sameItems(command.payload.items));

let sequence = 0;
/** A fresh order on a fresh SKU with 10 units, so tests share no rows. */
async function newOrder(quantity = 3): Promise<Lines> {
  sequence += 1;
  const sku = `sku-${sequence}`;
  await dataSource.query('INSERT INTO stock (sku, available) VALUES ($1, 10)', [sku]);
  return { orderId: ids.nextId(), items: [{ sku, quantity }] };
}

/** The stock as a reader outside the prepared transaction sees it. */
async function stock(sku: string): Promise<{ available: number; sold: number }> {
  const { rows } = await observer.query<{ available: number; sold: number }>(
    'SELECT available, sold FROM stock WHERE sku = $1',
    [sku],
  );
  return rows[0];
}

/** The replies the participant wrote for an order, oldest first. */
async function replies(orderId: string): Promise<unknown[]> {
  const rows: Array<{ envelope: Envelope }> = await dataSource.query(
    'SELECT envelope FROM outbox WHERE key = $1 ORDER BY id',
    [orderId],
  );
  return rows.map((row) => row.envelope.payload);
}

async function branchState(orderId: string): Promise<string | undefined> {
  const rows: Array<{ state: string }> = await dataSource.query(
    'SELECT state FROM twopc_branches WHERE order_id = $1',
    [orderId],
  );
  return rows[0]?.state;
}

beforeAll(async () => {
  dataSource = await openTwoPcTestDatabase(
    DATABASE,
    [...outboxMigrations, ...inboxMigrations, ...twoPcParticipantMigrations],
    [
      `CREATE TABLE stock (sku text PRIMARY KEY, available integer NOT NULL CHECK (available >= 0),
                           sold integer NOT NULL DEFAULT 0 CHECK (sold >= 0))`,
    ],
  );
  participant = new PreparedTransactionParticipant(
    dataSource,
    'inventory',
    'inventory',
    new Outbox(ids),
    { lockTimeoutMs: 300 },
  );
  observer = await rawClient(DATABASE);
});

afterAll(async () => {
  await observer?.end();
  await participant?.onModuleDestroy();
  if (dataSource) {
    await rollbackAllPrepared(dataSource);
    expect(await preparedGids(dataSource)).toEqual([]);
    await dataSource.destroy();
  }
});

describe('PreparedTransactionParticipant', () => {
  it('a yes vote holds its change in a prepared transaction: invisible and locked until the commit', async () => {
    const order = await newOrder(3);
    const { sku } = order.items[0];
    const gid = await participant.gidOf(order.orderId);

    await expect(prepare(envelope('inventory.2pc.prepare', order))).resolves.toBe('answered');

    expect(gid).toBe(`twopc:${DATABASE}:${order.orderId}:inventory`);
    expect(await preparedGids(dataSource)).toContain(gid);
    expect(await stock(sku)).toEqual({ available: 10, sold: 0 });
    expect(await branchState(order.orderId)).toBe('PREPARED');
    // Another writer of the row waits for the decision (here: gives up after 100 ms).
    await observer.query('BEGIN');
    await observer.query("SET LOCAL lock_timeout = '100ms'");
    await expect(
      observer.query('UPDATE stock SET available = available + 1 WHERE sku = $1', [sku]),
    ).rejects.toMatchObject({ code: '55P03' });
    await observer.query('ROLLBACK');

    await expect(commit(envelope('inventory.2pc.commit', order))).resolves.toBe('answered');

    expect(await stock(sku)).toEqual({ available: 7, sold: 3 });
    expect(await preparedGids(dataSource)).not.toContain(gid);
    expect(await branchState(order.orderId)).toBe('COMMITTED');
    expect(await replies(order.orderId)).toEqual([
      { outcome: 'SUCCESS', totalCents: 300 },
      { outcome: 'SUCCESS' },
    ]);
  });

  it('a no vote holds nothing; a commit of it is dead-lettered, a rollback acknowledged', async () => {
    const order = await newOrder(11);
    const { sku } = order.items[0];

    await prepare(envelope('inventory.2pc.prepare', order));

    expect(await preparedGids(dataSource)).not.toContain(await participant.gidOf(order.orderId));
    expect(await branchState(order.orderId)).toBe('ABORTED');
    await expect(commit(envelope('inventory.2pc.commit', order))).rejects.toBeInstanceOf(
      InvalidMessageError,
    );
    await expect(rollback(envelope('inventory.2pc.rollback', order))).resolves.toBe('answered');
    expect(await stock(sku)).toEqual({ available: 10, sold: 0 });
    expect(await replies(order.orderId)).toEqual([
      { outcome: 'FAILURE', reason: 'OUT_OF_STOCK' },
      { outcome: 'SUCCESS' },
    ]);
  });

  it('a duplicate prepare is dropped; a re-sent one gets the same vote and prepares nothing more', async () => {
    const order = await newOrder(4);
    const first = envelope('inventory.2pc.prepare', order);

    await prepare(first);
    await expect(prepare(first)).resolves.toBe('duplicate');
    await expect(prepare(envelope('inventory.2pc.prepare', order))).resolves.toBe('answered');

    const gid = await participant.gidOf(order.orderId);
    expect((await preparedGids(dataSource)).filter((g) => g === gid)).toHaveLength(1);
    expect(await replies(order.orderId)).toEqual([
      { outcome: 'SUCCESS', totalCents: 400 },
      { outcome: 'SUCCESS', totalCents: 400 },
    ]);
    await commit(envelope('inventory.2pc.commit', order));
    expect(await stock(order.items[0].sku)).toEqual({ available: 6, sold: 4 });
  });

  it('concurrent copies of one prepare (two processes after a rebalance) prepare once, vote alike', async () => {
    const order = await newOrder(2);

    await Promise.all([1, 2, 3].map(() => prepare(envelope('inventory.2pc.prepare', order))));

    const gid = await participant.gidOf(order.orderId);
    expect((await preparedGids(dataSource)).filter((g) => g === gid)).toHaveLength(1);
    expect(await replies(order.orderId)).toEqual(
      Array(3).fill({ outcome: 'SUCCESS', totalCents: 200 }),
    );
    await commit(envelope('inventory.2pc.commit', order));
    expect(await stock(order.items[0].sku)).toEqual({ available: 8, sold: 2 });
  });

  it('a rollback before its prepare leaves a tombstone: the late prepare is refused and holds nothing', async () => {
    const order = await newOrder(3);

    await expect(rollback(envelope('inventory.2pc.rollback', order))).resolves.toBe('answered');
    expect(await branchState(order.orderId)).toBe('ABORTED');
    await prepare(envelope('inventory.2pc.prepare', order));

    expect(await preparedGids(dataSource)).not.toContain(await participant.gidOf(order.orderId));
    expect(await stock(order.items[0].sku)).toEqual({ available: 10, sold: 0 });
    expect(await replies(order.orderId)).toEqual([
      { outcome: 'SUCCESS' },
      { outcome: 'FAILURE', reason: 'REFUSED' },
    ]);
  });

  it('a prepare racing its rollback ends rolled back either way, holding nothing', async () => {
    for (let round = 0; round < 5; round++) {
      const order = await newOrder(5);
      await Promise.all([
        prepare(envelope('inventory.2pc.prepare', order)),
        rollback(envelope('inventory.2pc.rollback', order)),
      ]);
      expect(await branchState(order.orderId)).toBe('ABORTED');
      expect(await preparedGids(dataSource)).not.toContain(await participant.gidOf(order.orderId));
      expect(await stock(order.items[0].sku)).toEqual({ available: 10, sold: 0 });
    }
  });

  it('a crash between PREPARE and the vote: the redelivered prepare rolls the orphan back and prepares again', async () => {
    const order = await newOrder(3);
    const { sku } = order.items[0];
    const gid = await participant.gidOf(order.orderId);
    // What the crashed run left: the change prepared, no branch row, no inbox row, no vote.
    const crashed = await rawClient(DATABASE);
    try {
      await crashed.query('BEGIN');
      await crashed.query(
        'UPDATE stock SET available = available - 3, sold = sold + 3 WHERE sku = $1',
        [sku],
      );
      await crashed.query('INSERT INTO twopc_committed (gid) VALUES ($1)', [gid]);
      await crashed.query(`PREPARE TRANSACTION '${gid}'`);
    } finally {
      await crashed.end();
    }

    await expect(prepare(envelope('inventory.2pc.prepare', order))).resolves.toBe('answered');

    expect((await preparedGids(dataSource)).filter((g) => g === gid)).toHaveLength(1);
    await commit(envelope('inventory.2pc.commit', order));
    expect(await stock(sku)).toEqual({ available: 7, sold: 3 }); // once, not twice
  });

  it('commit and rollback are idempotent; the other decision after one is dead-lettered', async () => {
    const committed = await newOrder(1);
    await prepare(envelope('inventory.2pc.prepare', committed));
    await commit(envelope('inventory.2pc.commit', committed));
    await expect(commit(envelope('inventory.2pc.commit', committed))).resolves.toBe('answered');
    await expect(rollback(envelope('inventory.2pc.rollback', committed))).rejects.toBeInstanceOf(
      InvalidMessageError,
    );
    expect(await stock(committed.items[0].sku)).toEqual({ available: 9, sold: 1 });

    const rolledBack = await newOrder(1);
    await prepare(envelope('inventory.2pc.prepare', rolledBack));
    await rollback(envelope('inventory.2pc.rollback', rolledBack));
    await expect(rollback(envelope('inventory.2pc.rollback', rolledBack))).resolves.toBe(
      'answered',
    );
    await expect(commit(envelope('inventory.2pc.commit', rolledBack))).rejects.toBeInstanceOf(
      InvalidMessageError,
    );
    expect(await stock(rolledBack.items[0].sku)).toEqual({ available: 10, sold: 0 });
    expect(await replies(rolledBack.orderId)).toHaveLength(3);
  });

  it('a crash after COMMIT PREPARED, before the acknowledgement: the redelivered commit finds the marker', async () => {
    const order = await newOrder(2);
    await prepare(envelope('inventory.2pc.prepare', order));
    await dataSource.query(`COMMIT PREPARED '${await participant.gidOf(order.orderId)}'`);

    await expect(commit(envelope('inventory.2pc.commit', order))).resolves.toBe('answered');

    expect(await branchState(order.orderId)).toBe('COMMITTED');
    expect(await stock(order.items[0].sku)).toEqual({ available: 8, sold: 2 });
  });

  it('a decision naming other lines than the prepare is dead-lettered and changes nothing', async () => {
    const order = await newOrder(2);
    await prepare(envelope('inventory.2pc.prepare', order));
    const other = { ...order, items: [{ ...order.items[0], quantity: 1 }] };

    await expect(commit(envelope('inventory.2pc.commit', other))).rejects.toBeInstanceOf(
      InvalidMessageError,
    );
    await expect(rollback(envelope('inventory.2pc.rollback', other))).rejects.toBeInstanceOf(
      InvalidMessageError,
    );

    expect(await branchState(order.orderId)).toBe('PREPARED');
    expect(await preparedGids(dataSource)).toContain(await participant.gidOf(order.orderId));
    await rollback(envelope('inventory.2pc.rollback', order));
    expect(await stock(order.items[0].sku)).toEqual({ available: 10, sold: 0 });
  });

  it("a prepare blocked by another order's prepared transaction is deferred, not voted no; it passes after that decision", async () => {
    const first = await newOrder(6);
    const second: Lines = { orderId: ids.nextId(), items: first.items };
    await prepare(envelope('inventory.2pc.prepare', first));
    const blocked = envelope('inventory.2pc.prepare', second);

    await expect(prepare(blocked)).rejects.toBeInstanceOf(PrepareDeferredError);
    expect(await branchState(second.orderId)).toBeUndefined();
    expect(await replies(second.orderId)).toEqual([]);

    await commit(envelope('inventory.2pc.commit', first));
    await expect(prepare(blocked)).resolves.toBe('answered'); // the consumer's retry
    expect(await replies(second.orderId)).toEqual([{ outcome: 'FAILURE', reason: 'OUT_OF_STOCK' }]);
    expect(await stock(first.items[0].sku)).toEqual({ available: 4, sold: 6 });
  });
});

describe('PreparedTransactionParticipant beside the after-commit publisher', () => {
  const TOPIC = `test-twopc.acknowledgements.${runSuffix()}`;
  const ROUTE = { topic: TOPIC, type: 'inventory.2pc.reply' };
  let kafka: KafkaClient;
  let recorder: TopicRecorder;
  let publisher: AfterCommitPublisher;
  let published: PreparedTransactionParticipant;

  beforeAll(async () => {
    kafka = await connectKafka('test-twopc-acknowledgements');
    await kafka.ensureTopics([{ topic: TOPIC, numPartitions: 3 }]);
    recorder = new TopicRecorder(kafka, `test-twopc-acknowledgements-${runSuffix()}`);
    await recorder.start([TOPIC]);
    publisher = new AfterCommitPublisher(kafka.producer);
    publisher.attach(dataSource);
    published = new PreparedTransactionParticipant(
      dataSource,
      'inventory',
      'inventory',
      new Outbox(ids),
    );
  });

  afterAll(async () => {
    await published?.onModuleDestroy();
    await publisher?.stop();
    await recorder?.stop();
    await kafka?.disconnectProducer();
    await kafka?.disconnectAdmin();
  });

  // The decisions run on connections of their own (a DataSource of their own). Their
  // acknowledgements used to miss the after-commit path: each one went to the relay, which
  // found the vote of its order published but not yet marked sent, left it as "behind an older
  // unsent row" and took it at its next poll — half a second on every 2PC order. No relay runs
  // here: only the after-commit path can publish the acknowledgement.
  it('acknowledges a decision right after its commit, as it votes, not by the relay', async () => {
    const order = await newOrder(1);
    const vote = envelope('inventory.2pc.prepare', order);
    await published.prepare(vote, ROUTE, order, (manager) => sell(manager, order));
    const decision = envelope('inventory.2pc.commit', order);
    await published.commit(decision, ROUTE, sameItems(order.items));

    const answered = (command: Envelope) => () =>
      recorder.envelopesOf(TOPIC).some((reply) => reply.causationId === command.id);
    await eventually('the vote published', answered(vote), 5000);
    await eventually('the acknowledgement published', answered(decision), 5000);
    expect(await branchState(order.orderId)).toBe('COMMITTED');
  });
});
