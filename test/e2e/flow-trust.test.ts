// Who may answer, and what an answer may say: the order service against forged and malformed
// replies, and the participants against late compensations and actions, on the real Kafka and
// Postgres. First the test plays inventory itself (the inventory service is not running yet),
// so it can answer an order's reserve command with forgeries before the real answer: each is
// dead-lettered, changes nothing, and the order still completes on the real one. Then, with all
// three services: a refund after a saga completed, and late actions after orders were cancelled,
// are refused and move nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  orderFlowMessages,
  TOPICS,
  type OrderFlowMessageType,
  type ParticipantReply,
} from '@app/order-flow-api';
import type { Envelope, KafkaClient } from '@app/dist-core/kafka';
import { deadLetterTopic, encodeEnvelope, readDeadLetter } from '@app/dist-core/kafka/testing';
import { SnowflakeGenerator } from '@app/dist-core/snowflake';
import { connectKafka, eventually, runSuffix, TopicRecorder } from '../support/kafka.js';
import {
  startService,
  TEST_DEPLOYMENT,
  testPort,
  type RunningService,
} from '../support/services.js';

const RUN = runSuffix();
const PORTS = { order: testPort(60), payment: testPort(61), inventory: testPort(62) };
// Long enough that the test's own answers, forgeries first, arrive before any re-send or timeout.
const ORDER_ENV = {
  ORDER_PORT: PORTS.order,
  ORDER_FLOW_TIMEOUT_MS: '40000',
  ORDER_STEP_TIMEOUT_MS: '30000',
};
/** A worker id no service leases here: the forged messages need unique ids only. */
const ids = new SnowflakeGenerator(1013);
const JUNK = `junk-${'x'.repeat(20 * 1024)}`;
const STRATEGIES = ['saga', 'tcc', '2pc'] as const;
type Strategy = (typeof STRATEGIES)[number];
/** Inventory's first command and the one that makes it final, per strategy. */
const INVENTORY_COMMANDS = {
  saga: { first: 'inventory.saga.reserve', final: 'inventory.saga.confirm' },
  tcc: { first: 'inventory.tcc.try', final: 'inventory.tcc.confirm' },
  '2pc': { first: 'inventory.2pc.prepare', final: 'inventory.2pc.commit' },
} as const;

interface Order {
  id: string;
  status: 'PENDING' | 'COMPLETED' | 'CANCELLED';
  reason: string | null;
  items: { sku: string; quantity: number; unitPriceCents: number | null }[];
  totalCents: number | null;
  history: { step: string; outcome: string; reason: string | null }[];
}

interface Account {
  availableCents: number;
  frozenCents: number;
  spentCents: number;
}

describe('trust boundaries of the order flow', () => {
  let order: RunningService;
  let payment: RunningService;
  let inventory: RunningService | undefined;
  let kafka: KafkaClient;
  let recorder: TopicRecorder;

  beforeAll(async () => {
    order = startService('order', ORDER_ENV);
    payment = startService('payment', { PAYMENT_PORT: PORTS.payment });
    await Promise.all([order, payment].map((s) => s.waitForHealth(200, 110_000)));
    kafka = await connectKafka(`test-flow-trust-${RUN}`, TEST_DEPLOYMENT);
    recorder = new TopicRecorder(kafka, `test-flow-trust-${RUN}`);
    await recorder.start([
      TOPICS.inventoryCommands,
      TOPICS.paymentCommands,
      TOPICS.inventoryDecisions,
      TOPICS.paymentDecisions,
      TOPICS.paymentReplies,
      TOPICS.inventoryReplies,
      deadLetterTopic(TOPICS.inventoryReplies),
      deadLetterTopic(TOPICS.paymentReplies),
    ]);
  }, 120_000);

  afterAll(async () => {
    await recorder?.stop();
    await kafka?.disconnectProducer();
    await kafka?.disconnectAdmin();
    await Promise.all([order, payment, inventory].map((s) => s?.stop()));
  });

  const call = async <T>(service: RunningService, method: string, path: string, body?: unknown) => {
    const response = await service.request<T>(method, path, body);
    if (response.status >= 400) {
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    }
    return response.body;
  };

  const createAccount = async (name: string, balanceCents: number) => {
    const customerId = `trust-${RUN}-${name}`;
    await call(payment, 'POST', '/accounts', { customerId, balanceCents });
    return customerId;
  };
  const account = (customerId: string) => call<Account>(payment, 'GET', `/accounts/${customerId}`);
  const orderOf = (id: string) => call<Order>(order, 'GET', `/orders/${id}`);

  const place = async (strategy: Strategy, customerId: string, items: object[]) =>
    (await call<Order>(order, 'POST', '/orders', { customerId, items, strategy })).id;

  const terminal = async (id: string): Promise<Order> => {
    let last: Order | undefined;
    await eventually(
      `order ${id} terminal`,
      async () => (last = await orderOf(id)).status !== 'PENDING',
      60_000,
    );
    return last!;
  };

  /** The first command of `type` the order service sent for `orderId`. */
  const commandOf = async (type: OrderFlowMessageType, orderId: string) => {
    const find = () =>
      recorder
        .envelopesOf(orderFlowMessages.route(type).topic)
        .find((e) => e.type === type && e.correlationId === orderId);
    await eventually(`${type} for ${orderId}`, () => find() !== undefined);
    return find()!;
  };

  const repliesTo = (topic: string, command: Envelope) =>
    recorder.envelopesOf<ParticipantReply>(topic).filter((e) => e.causationId === command.id);

  /** Produces an envelope to `topic`, keyed by its order, as a client with access could. */
  const produce = async (topic: string, envelope: Envelope) => {
    await kafka.producer.send({
      topic,
      acks: -1,
      messages: [{ key: envelope.correlationId, value: encodeEnvelope(envelope) }],
    });
    return envelope;
  };

  const envelope = (type: string, command: Envelope, payload: object): Envelope => ({
    id: ids.nextId(),
    type,
    correlationId: command.correlationId,
    causationId: command.id,
    createdAt: new Date().toISOString(),
    payload,
  });

  const deadLettered = async (topic: string, forged: Envelope) => {
    const dlq = deadLetterTopic(topic);
    const find = () =>
      recorder
        .of(dlq)
        .map(readDeadLetter)
        .find((letter) => letter.value?.includes(forged.id));
    await eventually(`${forged.id} (${forged.type}) in ${dlq}`, () => find() !== undefined);
    return find()!;
  };

  describe.each(STRATEGIES)('%s: the test answers as inventory', (strategy) => {
    const reply = orderFlowMessages.route(`inventory.${strategy}.reply`);
    const foreignReply = orderFlowMessages.route(`payment.${strategy}.reply`);
    const { first: tryType, final: confirmType } = INVENTORY_COMMANDS[strategy];
    const skus = [`trust-${RUN}-${strategy}-a`, `trust-${RUN}-${strategy}-b`];
    const lines = [
      { sku: skus[0], quantity: 2 },
      { sku: skus[1], quantity: 1 },
    ];
    const priced = [
      { ...lines[0], unitPriceCents: 1_000 },
      { ...lines[1], unitPriceCents: 500 },
    ];
    const TOTAL = 2_500;

    it('dead-letters every forged or malformed reply, then completes on the real one', async () => {
      const customerId = await createAccount(`${strategy}-buyer`, 10_000);
      const orderId = await place(strategy, customerId, lines);
      const reserve = await commandOf(tryType, orderId);

      const success = { outcome: 'SUCCESS', items: priced, totalCents: TOTAL };
      const forgeries: [string, string, Envelope, RegExp][] = [
        // Payment's reply type, on payment's own topic, answering inventory's command.
        [
          'payment answering for inventory',
          foreignReply.topic,
          envelope(foreignReply.type, reserve, success),
          /comes from payment/,
        ],
        // Inventory's reply type smuggled onto payment's topic.
        [
          "inventory's type on payment's topic",
          foreignReply.topic,
          envelope(reply.type, reserve, success),
          /belongs on inventory.replies, not payment.replies/,
        ],
        [
          'a line priced 0',
          reply.topic,
          envelope(reply.type, reserve, {
            ...success,
            items: [priced[0], { ...priced[1], unitPriceCents: 0 }],
            totalCents: 2_000,
          }),
          /PricingError|unitPriceCents/,
        ],
        [
          'everything priced 0',
          reply.topic,
          envelope(reply.type, reserve, {
            ...success,
            items: priced.map((line) => ({ ...line, unitPriceCents: 0 })),
            totalCents: 0,
          }),
          /unitPriceCents/,
        ],
        [
          'a total that is not the sum',
          reply.topic,
          envelope(reply.type, reserve, { ...success, totalCents: 1 }),
          /totalCents is not the sum/,
        ],
        [
          'a line missing',
          reply.topic,
          envelope(reply.type, reserve, { ...success, items: [priced[0]], totalCents: 2_000 }),
          /priced lines/,
        ],
        [
          'a 20 KB reason',
          reply.topic,
          envelope(reply.type, reserve, { outcome: 'FAILURE', reason: JUNK }),
          /needs one of its reasons/,
        ],
        [
          "payment's reason from inventory",
          reply.topic,
          envelope(reply.type, reserve, { outcome: 'FAILURE', reason: 'INSUFFICIENT_FUNDS' }),
          /needs one of its reasons/,
        ],
      ];
      for (const [, topic, forged] of forgeries) await produce(topic, forged);
      for (const [what, topic, forged, error] of forgeries) {
        const letter = await deadLettered(topic, forged);
        expect({ what, error: letter.error }).toEqual({
          what,
          error: expect.stringMatching(error),
        });
        expect(letter.attempts).toBeLessThanOrEqual(1);
      }

      // Nothing moved: still PENDING, no step recorded, payment never asked, no money taken.
      const pending = await orderOf(orderId);
      expect(pending).toMatchObject({ status: 'PENDING', reason: null, totalCents: null });
      expect(pending.history).toEqual([]);
      const paymentCommands = recorder
        .envelopesOf(TOPICS.paymentCommands)
        .filter((e) => e.correlationId === orderId);
      expect(paymentCommands).toEqual([]);
      expect(await account(customerId)).toMatchObject({ availableCents: 10_000, spentCents: 0 });

      // The real answer, to the very command the forgeries named, still applies.
      await produce(reply.topic, envelope(reply.type, reserve, success));
      const confirm = await commandOf(confirmType, orderId);
      await produce(reply.topic, envelope(reply.type, confirm, { outcome: 'SUCCESS' }));
      const done = await terminal(orderId);
      expect(done).toMatchObject({
        status: 'COMPLETED',
        reason: null,
        items: priced,
        totalCents: TOTAL,
      });
      expect(done.history.every((h) => h.reason === null)).toBe(true);
      await eventually('the payment settled', async () => {
        const figures = await account(customerId);
        return figures.spentCents === TOTAL && figures.frozenCents === 0;
      });
      expect(await account(customerId)).toMatchObject({
        availableCents: 10_000 - TOTAL,
        spentCents: TOTAL,
      });
    }, 90_000);
  });

  it('puts no reply text into any metric label', async () => {
    const response = await order.fetch('/metrics');
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('kafka_dead_letters_total');
    expect(text).not.toContain('xxxxxxxx');
    expect(text.length).toBeLessThan(1_000_000);
  });

  describe('with inventory running', () => {
    const stock = new Map<string, number>();

    beforeAll(async () => {
      inventory = startService('inventory', { INVENTORY_PORT: PORTS.inventory });
      await inventory.waitForHealth(200, 110_000);
    }, 120_000);

    const createProduct = async (name: string, priceCents: number, units: number) => {
      const sku = `trust-${RUN}-${name}`;
      await call(inventory!, 'POST', '/products', { sku, name, priceCents, stock: units });
      stock.set(sku, units);
      return sku;
    };
    const product = (sku: string) =>
      call<{ available: number; reserved: number; sold: number }>(
        inventory!,
        'GET',
        `/products/${sku}`,
      );

    /** Sends a command as the order service would, and waits for the participant's reply. */
    const roundTrip = async (type: OrderFlowMessageType, orderId: string, payload: object) => {
      const { topic } = orderFlowMessages.route(type);
      const command = await produce(topic, {
        id: ids.nextId(),
        type,
        correlationId: orderId,
        causationId: null,
        createdAt: new Date().toISOString(),
        payload: { orderId, ...payload },
      });
      const replies = type.startsWith('payment.') ? TOPICS.paymentReplies : TOPICS.inventoryReplies;
      await eventually(`a reply to ${type}`, () => repliesTo(replies, command).length > 0);
      return repliesTo(replies, command)[0].payload;
    };

    it('refuses a refund after the saga completed: the money stays spent, the goods sold', async () => {
      const sku = await createProduct('refund-goods', 1_250, 10);
      const customerId = await createAccount('refund-buyer', 10_000);
      const orderId = await place('saga', customerId, [{ sku, quantity: 2 }]);
      const done = await terminal(orderId);
      expect(done).toMatchObject({ status: 'COMPLETED', totalCents: 2_500 });
      // The completing transaction sent the settlement. It is answered by no reply; the refunds
      // below go to the same partition after it (same key), so payment takes it first.
      const settle = await commandOf('payment.saga.settle', orderId);
      expect(settle.payload).toEqual({ orderId, customerId, amountCents: 2_500 });

      const funds = { customerId, amountCents: 2_500 };
      for (let round = 0; round < 2; round++) {
        expect(await roundTrip('payment.saga.refund', orderId, funds)).toEqual({
          outcome: 'FAILURE',
          reason: 'REFUSED',
        });
      }
      expect(await account(customerId)).toMatchObject({
        availableCents: 7_500,
        frozenCents: 0,
        spentCents: 2_500,
      });
      // Inventory's branch was confirmed by confirmStock: its release is refused as well.
      const items = [{ sku, quantity: 2 }];
      expect(await roundTrip('inventory.saga.release', orderId, { items })).toEqual({
        outcome: 'FAILURE',
        reason: 'REFUSED',
      });
      expect(await product(sku)).toMatchObject({ available: 8, reserved: 0, sold: 2 });
      expect(await orderOf(orderId)).toMatchObject({ status: 'COMPLETED', totalCents: 2_500 });
      expect(repliesTo(TOPICS.paymentReplies, settle)).toEqual([]);
    }, 90_000);

    // 2PC's late prepare after a rollback is the participant's own tombstone (test/twopc).
    it.each(['saga', 'tcc'] as const)(
      '%s: refuses a late action on a cancelled order: no stock reserved, no money taken',
      async (strategy) => {
        const sku = await createProduct(`${strategy}-late-goods`, 5_000, 10);
        const customerId = await createAccount(`${strategy}-late-poor`, 4_999);
        const items = [{ sku, quantity: 1 }];
        const orderId = await place(strategy, customerId, items);
        expect(await terminal(orderId)).toMatchObject({
          status: 'CANCELLED',
          reason: 'INSUFFICIENT_FUNDS',
        });
        // The released reservation is closed for good: a late reserve / try is refused.
        const tryType = strategy === 'saga' ? 'inventory.saga.reserve' : 'inventory.tcc.try';
        expect(await roundTrip(tryType, orderId, { items })).toEqual({
          outcome: 'FAILURE',
          reason: 'REFUSED',
        });
        // Payment's failed Try is answered the same again, and takes nothing now either.
        await call(payment, 'POST', `/accounts/${customerId}/deposits`, { amountCents: 10_000 });
        const payType = strategy === 'saga' ? 'payment.saga.charge' : 'payment.tcc.try';
        expect(await roundTrip(payType, orderId, { customerId, amountCents: 5_000 })).toMatchObject(
          { outcome: 'FAILURE' },
        );
        expect(await product(sku)).toMatchObject({ available: 10, reserved: 0, sold: 0 });
        expect(await account(customerId)).toMatchObject({
          availableCents: 14_999,
          frozenCents: 0,
          spentCents: 0,
        });
        expect(await orderOf(orderId)).toMatchObject({ status: 'CANCELLED' });
      },
      90_000,
    );
  });
});
