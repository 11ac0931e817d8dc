// The 2PC participants as they run: the built inventory and payment services, prepares sent on
// their commands topics and decisions on their decisions topics (as the order service's outbox
// would: this test plays the coordinator), votes and acknowledgements read from their reply
// topics, on the real Kafka (with its ACLs) and Postgres, the decisions taken by the services'
// separate decisions consumers. A prepare blocked behind another order's prepared transaction is
// deferred and retried while that order's commit goes through, then votes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { TOPICS, type ParticipantReply } from '@app/order-flow-api';
import type { Envelope, KafkaClient } from '@app/dist-core/kafka';
import { deadLetterTopic, encodeEnvelope } from '@app/dist-core/kafka/testing';
import { SnowflakeGenerator } from '@app/dist-core/snowflake';
import { connectKafka, eventually, runSuffix, TopicRecorder } from '../support/kafka.js';
import { testDatabaseUrl } from '../support/test-database.js';
import {
  startService,
  TEST_DEPLOYMENT,
  testPort,
  type RunningService,
} from '../support/services.js';

const RUN = runSuffix();
const PORTS = { payment: testPort(80), inventory: testPort(81) };
const ids = new SnowflakeGenerator(1019);
/** Every order id this file uses, for the final check. */
const orders: string[] = [];

describe('2PC participants over Kafka', () => {
  let inventory: RunningService;
  let payment: RunningService;
  let kafka: KafkaClient;
  let recorder: TopicRecorder;

  beforeAll(async () => {
    inventory = startService('inventory', { INVENTORY_PORT: PORTS.inventory });
    payment = startService('payment', { PAYMENT_PORT: PORTS.payment });
    await Promise.all([inventory, payment].map((s) => s.waitForHealth(200, 110_000)));
    kafka = await connectKafka(`test-twopc-${RUN}`, TEST_DEPLOYMENT);
    recorder = new TopicRecorder(kafka, `test-twopc-${RUN}`);
    await recorder.start([
      TOPICS.inventoryReplies,
      TOPICS.paymentReplies,
      deadLetterTopic(TOPICS.inventoryDecisions),
    ]);
  }, 130_000);

  afterAll(async () => {
    await recorder?.stop();
    await kafka?.disconnectProducer();
    await kafka?.disconnectAdmin();
    await Promise.all([inventory?.stop(), payment?.stop()]);
  });

  const json = async (service: RunningService, method: string, path: string, body?: unknown) => {
    const response = await service.fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await response.json()) as Record<string, number>;
  };

  const envelope = (type: string, orderId: string, payload: object): Envelope => {
    orders.push(orderId);
    return {
      id: ids.nextId(),
      type,
      correlationId: orderId,
      causationId: null,
      createdAt: new Date().toISOString(),
      payload: { orderId, ...payload, gid: orderId, branch: type.split('.')[0] },
    };
  };

  const send = (topic: string, message: Envelope) =>
    kafka.producer.send({
      topic,
      acks: -1,
      messages: [{ key: message.correlationId, value: encodeEnvelope(message) }],
    });

  /** Sends `message` and resolves with the participant's one reply to it. */
  const replyTo = async (topic: string, message: Envelope): Promise<ParticipantReply> => {
    await send(topic, message);
    const replies = topic.startsWith('inventory') ? TOPICS.inventoryReplies : TOPICS.paymentReplies;
    const find = () =>
      recorder
        .envelopesOf<ParticipantReply>(replies)
        .filter((reply) => reply.causationId === message.id);
    await eventually(`a reply to ${message.type} ${message.id}`, () => find().length > 0, 30_000);
    expect(find()[0].type).toMatch(/\.2pc\.reply$/);
    return find()[0].payload;
  };

  it('prepares invisibly, commits on the decision; a prepare blocked meanwhile votes after it', async () => {
    const sku = `twopc-${RUN}`;
    const customerId = `twopc-${RUN}`;
    await json(inventory, 'POST', '/products', { sku, name: sku, priceCents: 250, stock: 3 });
    await json(payment, 'POST', '/accounts', { customerId, balanceCents: 10_000 });
    const first = ids.nextId();
    const second = ids.nextId();
    const items = [{ sku, quantity: 2 }];

    const vote = await replyTo(
      TOPICS.inventoryCommands,
      envelope('inventory.2pc.prepare', first, { items }),
    );
    expect(vote).toEqual({
      outcome: 'SUCCESS',
      items: [{ sku, quantity: 2, unitPriceCents: 250 }],
      totalCents: 500,
    });
    const funds = { customerId, amountCents: 500 };
    expect(
      await replyTo(TOPICS.paymentCommands, envelope('payment.2pc.prepare', first, funds)),
    ).toEqual({ outcome: 'SUCCESS' });
    // Nothing shows until the commit.
    expect(await json(inventory, 'GET', `/products/${sku}`)).toMatchObject({
      available: 3,
      reserved: 0,
      sold: 0,
    });
    expect(await json(payment, 'GET', `/accounts/${customerId}`)).toMatchObject({
      availableCents: 10_000,
      spentCents: 0,
    });

    // The second order's prepare waits for the row the first one's prepared transaction holds;
    // the first one's commit, on the decisions topic, is taken all the same.
    const blocked = envelope('inventory.2pc.prepare', second, { items });
    await send(TOPICS.inventoryCommands, blocked);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(
      await replyTo(TOPICS.inventoryDecisions, envelope('inventory.2pc.commit', first, { items })),
    ).toEqual({ outcome: 'SUCCESS' });
    expect(
      await replyTo(TOPICS.paymentDecisions, envelope('payment.2pc.commit', first, funds)),
    ).toEqual({ outcome: 'SUCCESS' });
    await eventually('the blocked prepare voted', () =>
      recorder
        .envelopesOf(TOPICS.inventoryReplies)
        .some((reply) => reply.causationId === blocked.id),
    );
    const secondVote = recorder
      .envelopesOf<ParticipantReply>(TOPICS.inventoryReplies)
      .find((reply) => reply.causationId === blocked.id)!.payload;
    expect(secondVote).toEqual({ outcome: 'FAILURE', reason: 'OUT_OF_STOCK' });

    expect(await json(inventory, 'GET', `/products/${sku}`)).toMatchObject({
      available: 1,
      reserved: 0,
      sold: 2,
    });
    expect(await json(payment, 'GET', `/accounts/${customerId}`)).toMatchObject({
      availableCents: 9_500,
      frozenCents: 0,
      spentCents: 500,
    });

    // A rollback before its prepare, then the prepare: refused, nothing held.
    const third = ids.nextId();
    expect(
      await replyTo(
        TOPICS.inventoryDecisions,
        envelope('inventory.2pc.rollback', third, { items }),
      ),
    ).toEqual({ outcome: 'SUCCESS' });
    expect(
      await replyTo(TOPICS.inventoryCommands, envelope('inventory.2pc.prepare', third, { items })),
    ).toEqual({ outcome: 'FAILURE', reason: 'REFUSED' });
  }, 90_000);

  it('dead-letters a commit of a branch that never voted yes', async () => {
    const forged = envelope('inventory.2pc.commit', ids.nextId(), {
      items: [{ sku: `twopc-${RUN}`, quantity: 1 }],
    });
    await send(TOPICS.inventoryDecisions, forged);
    await eventually('the forged commit dead-lettered', () =>
      recorder.of(deadLetterTopic(TOPICS.inventoryDecisions)).some((message) => {
        try {
          return (JSON.parse(message.value!.toString()) as Envelope).id === forged.id;
        } catch {
          return false;
        }
      }),
    );
  }, 40_000);

  it("leaves none of its orders' prepared transactions behind", async () => {
    const client = new pg.Client({ connectionString: testDatabaseUrl('postgres') });
    await client.connect();
    try {
      const { rows } = await client.query<{ gid: string }>('SELECT gid FROM pg_prepared_xacts');
      expect(rows.filter(({ gid }) => orders.some((id) => gid.includes(`:${id}:`)))).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
