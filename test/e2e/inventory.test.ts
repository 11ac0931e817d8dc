// The built inventory service against the real Postgres and Kafka: its REST API per CONTRACT.md
// (every kind of bad input answered 4xx, never 5xx), and its part of the order flows, driven by
// producing command envelopes to inventory.commands and reading its replies on inventory.replies.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { orderFlowMessages, TOPICS, type StockCommand } from '@app/order-flow-api';
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
// Its own port, so that another suite's inventory on the default test port does not collide.
const PORT = testPort(12);
// A worker id no service leases at the same moment in practice; commands need unique ids only.
const ids = new SnowflakeGenerator(1001);

interface Product {
  sku: string;
  name: string;
  priceCents: number;
  available: number;
  reserved: number;
  sold: number;
}

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

type CommandType = keyof typeof orderFlowMessages.contracts & `inventory.${string}`;

describe('inventory service', () => {
  let service: RunningService;
  let kafka: KafkaClient;
  let replies: TopicRecorder;
  let deadLetters: TopicRecorder;

  beforeAll(async () => {
    service = startService('inventory', { INVENTORY_PORT: PORT });
    await service.waitForHealth(200);
    kafka = await connectKafka(`test-e2e-inventory-${RUN}`, TEST_DEPLOYMENT);
    // The service created every topic of the flow (and its dead-letter topics) at start.
    replies = new TopicRecorder(kafka, `test-e2e-inventory-replies-${RUN}`);
    deadLetters = new TopicRecorder(kafka, `test-e2e-inventory-dlq-${RUN}`);
    await Promise.all([
      replies.start([TOPICS.inventoryReplies]),
      deadLetters.start([deadLetterTopic(TOPICS.inventoryCommands)]),
    ]);
  }, 120_000);

  afterAll(async () => {
    await replies?.stop();
    await deadLetters?.stop();
    await kafka?.disconnectProducer();
    await kafka?.disconnectAdmin();
    const exit = await service?.stop();
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
  });

  const request = async (method: string, path: string, body?: unknown, raw?: string) => {
    const response = await service.fetch(path, {
      method,
      headers:
        body === undefined && raw === undefined ? {} : { 'content-type': 'application/json' },
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  const createProduct = async (sku: string, stock: number, priceCents = 250) => {
    const { status, body } = await request('POST', '/products', {
      sku,
      name: `Product ${sku}`,
      priceCents,
      stock,
    });
    expect(status).toBe(201);
    return body as Product;
  };

  const product = async (sku: string): Promise<Product> => {
    const { status, body } = await request('GET', `/products/${sku}`);
    expect(status).toBe(200);
    return body as Product;
  };

  /** Creates an envelope as the order service's outbox would. */
  const command = (type: CommandType, orderId: string, payload: Partial<StockCommand>) =>
    ({
      id: ids.nextId(),
      type,
      correlationId: orderId,
      causationId: null,
      createdAt: new Date().toISOString(),
      payload: { orderId, ...payload },
    }) satisfies Envelope;

  const send = async (...envelopes: Envelope[]) => {
    await kafka.producer.send({
      topic: TOPICS.inventoryCommands,
      acks: -1,
      messages: envelopes.map((envelope) => ({
        key: envelope.correlationId,
        value: encodeEnvelope(envelope),
      })),
    });
  };

  const repliesTo = (commandId: string): Envelope<Record<string, unknown>>[] =>
    replies
      .envelopesOf<Record<string, unknown>>(TOPICS.inventoryReplies)
      .filter((reply) => reply.causationId === commandId);

  /** Sends a command and waits for inventory's one reply to it. */
  const roundTrip = async (envelope: Envelope) => {
    await send(envelope);
    await eventually(`a reply to ${envelope.type} ${envelope.id}`, () => {
      return repliesTo(envelope.id).length > 0;
    });
    const [reply] = repliesTo(envelope.id);
    expect(reply.correlationId).toBe(envelope.correlationId);
    return reply;
  };

  describe('REST', () => {
    it('creates a product (201), refuses the same SKU again (409), and shows it', async () => {
      const sku = `rest-${RUN}`;
      const created = await request('POST', '/products', {
        sku,
        name: 'Mechanical keyboard',
        priceCents: 4999,
        stock: 50,
      });
      expect(created).toEqual({
        status: 201,
        body: {
          sku,
          name: 'Mechanical keyboard',
          priceCents: 4999,
          available: 50,
          reserved: 0,
          sold: 0,
        },
      });
      const again = await request('POST', '/products', {
        sku,
        name: 'Another',
        priceCents: 1,
        stock: 1,
      });
      expect(again.status).toBe(409);
      expect((again.body as ErrorBody).message).toContain(sku);
      expect(await request('GET', `/products/${sku}`)).toEqual({ status: 200, body: created.body });
    });

    it('lets exactly one of several concurrent creates of one SKU win', async () => {
      const sku = `race-${RUN}`;
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          request('POST', '/products', {
            sku,
            name: `n${index}`,
            priceCents: index + 1,
            stock: index,
          }),
        ),
      );
      expect(answers.map((answer) => answer.status).sort()).toEqual([
        201, 409, 409, 409, 409, 409, 409, 409,
      ]);
      const winner = answers.find((answer) => answer.status === 201)!.body as Product;
      expect(await product(sku)).toEqual(winner);
    });

    it('answers 404 for an unknown SKU, on GET and on restock', async () => {
      const missing = await request('GET', `/products/missing-${RUN}`);
      expect(missing.status).toBe(404);
      expect((missing.body as ErrorBody).message).toContain(`missing-${RUN}`);
      expect(
        (await request('POST', `/products/missing-${RUN}/restock`, { quantity: 1 })).status,
      ).toBe(404);
    });

    it('restocks: available grows, nothing else changes', async () => {
      const sku = `restock-${RUN}`;
      await createProduct(sku, 3, 120);
      const restocked = await request('POST', `/products/${sku}/restock`, { quantity: 7 });
      expect(restocked).toEqual({
        status: 200,
        body: { sku, name: `Product ${sku}`, priceCents: 120, available: 10, reserved: 0, sold: 0 },
      });
      expect(await product(sku)).toEqual(restocked.body);
    });

    const valid = { sku: `bad-${RUN}`, name: 'n', priceCents: 100, stock: 1 };
    const without = (field: keyof typeof valid) => {
      const body: Record<string, unknown> = { ...valid };
      delete body[field];
      return body;
    };

    it.each<[string, unknown, string]>([
      ['sku missing', without('sku'), 'sku'],
      ['sku a number', { ...valid, sku: 42 }, 'sku'],
      ['sku empty', { ...valid, sku: '' }, 'sku'],
      ['sku with a space', { ...valid, sku: 'a b' }, 'sku'],
      ['sku with a slash', { ...valid, sku: 'a/b' }, 'sku'],
      ['sku non-ASCII', { ...valid, sku: 'café' }, 'sku'],
      ['sku of 65 characters', { ...valid, sku: 'x'.repeat(65) }, 'sku'],
      ['name missing', without('name'), 'name'],
      ['name empty', { ...valid, name: '' }, 'name'],
      ['name a number', { ...valid, name: 5 }, 'name'],
      ['name of 201 characters', { ...valid, name: 'n'.repeat(201) }, 'name'],
      ['priceCents missing', without('priceCents'), 'priceCents'],
      ['priceCents a string', { ...valid, priceCents: '100' }, 'priceCents'],
      ['priceCents null', { ...valid, priceCents: null }, 'priceCents'],
      ['priceCents negative', { ...valid, priceCents: -1 }, 'priceCents'],
      ['priceCents zero', { ...valid, priceCents: 0 }, 'priceCents'],
      ['priceCents fractional', { ...valid, priceCents: 1.5 }, 'priceCents'],
      ['priceCents above 10^9', { ...valid, priceCents: 1_000_000_001 }, 'priceCents'],
      ['priceCents beyond 2^53', { ...valid, priceCents: 2 ** 60 }, 'priceCents'],
      ['stock missing', without('stock'), 'stock'],
      ['stock a string', { ...valid, stock: '5' }, 'stock'],
      ['stock negative', { ...valid, stock: -1 }, 'stock'],
      ['stock a boolean', { ...valid, stock: true }, 'stock'],
      ['stock above 10^9', { ...valid, stock: 1_000_000_001 }, 'stock'],
      ['an unknown field', { ...valid, reserved: 3 }, 'reserved'],
      ['an array body', [valid], 'sku'],
    ])('POST /products with %s → 400 naming the field', async (_case, body, field) => {
      const answer = await request('POST', '/products', body);
      expect(answer.status).toBe(400);
      expect((answer.body as ErrorBody).message).toContain(field);
      expect((await request('GET', `/products/${valid.sku}`)).status).toBe(404);
    });

    it('POST /products with malformed JSON → 400', async () => {
      const answer = await request('POST', '/products', undefined, '{"sku": "a", "name": ');
      expect(answer.status).toBe(400);
      expect((answer.body as ErrorBody).message).toContain('JSON');
    });

    it('POST /products with a 2 MiB body → 413', async () => {
      const answer = await request('POST', '/products', { ...valid, name: 'n'.repeat(2 << 20) });
      expect(answer.status).toBe(413);
    });

    it.each<[string, string]>([
      ['an illegal character', 'bad$sku'],
      ['an encoded slash', 'a%2Fb'],
      ['65 characters', 'x'.repeat(65)],
      ['a space', 'a%20b'],
    ])('GET and restock with a SKU holding %s → 400 naming sku', async (_case, sku) => {
      for (const answer of [
        await request('GET', `/products/${sku}`),
        await request('POST', `/products/${sku}/restock`, { quantity: 1 }),
      ]) {
        expect(answer.status).toBe(400);
        expect((answer.body as ErrorBody).message).toContain('sku');
      }
    });

    it.each<[string, unknown]>([
      ['quantity missing', {}],
      ['quantity a string', { quantity: '5' }],
      ['quantity zero', { quantity: 0 }],
      ['quantity negative', { quantity: -3 }],
      ['quantity fractional', { quantity: 2.5 }],
      ['quantity above 10^9', { quantity: 1_000_000_001 }],
      ['an unknown field', { quantity: 1, price: 3 }],
    ])('restock with %s → 400, stock unchanged', async (_case, body) => {
      const sku = `restock-bad-${RUN}`;
      if ((await request('GET', `/products/${sku}`)).status === 404) await createProduct(sku, 4);
      const answer = await request('POST', `/products/${sku}/restock`, body);
      expect(answer.status).toBe(400);
      expect((answer.body as ErrorBody).message).toMatch(/quantity|price/);
      expect((await product(sku)).available).toBe(4);
    });

    it('restock with malformed JSON → 400, and a 2 MiB body → 413', async () => {
      const sku = `restock-json-${RUN}`;
      await createProduct(sku, 1);
      expect(
        (await request('POST', `/products/${sku}/restock`, undefined, '{quantity: 1}')).status,
      ).toBe(400);
      expect(
        (
          await request('POST', `/products/${sku}/restock`, {
            quantity: 1,
            pad: 'x'.repeat(2 << 20),
          })
        ).status,
      ).toBe(413);
      expect((await product(sku)).available).toBe(1);
    });
  });

  it('documents every endpoint in Swagger, with examples', async () => {
    const { status, body } = await request('GET', '/docs-json');
    expect(status).toBe(200);
    const document = body as {
      paths: Record<string, Record<string, unknown>>;
      components: {
        schemas: Record<string, { properties: Record<string, { example?: unknown }> }>;
      };
    };
    expect(Object.keys(document.paths['/products'])).toContain('post');
    expect(Object.keys(document.paths['/products/{sku}'])).toContain('get');
    expect(Object.keys(document.paths['/products/{sku}/restock'])).toContain('post');
    for (const schema of ['CreateProductDto', 'RestockDto', 'ProductDto']) {
      const properties = Object.values(document.components.schemas[schema].properties);
      expect(properties.length).toBeGreaterThan(0);
      for (const property of properties) expect(property.example).toBeDefined();
    }
  });

  describe('stock commands', () => {
    it('reserves every line at its current price and confirms: reserved → sold', async () => {
      const [a, b] = [`flow-a-${RUN}`, `flow-b-${RUN}`];
      await createProduct(a, 10, 300);
      await createProduct(b, 5, 1250);
      const orderId = ids.nextId();

      // Lines in the order the customer gave them, not the SKU order the locks are taken in.
      const items = [
        { sku: b, quantity: 2 },
        { sku: a, quantity: 3 },
      ];
      const reserve = command('inventory.saga.reserve', orderId, { items });
      const reply = await roundTrip(reserve);
      expect(reply.type).toBe('inventory.saga.reply');
      expect(reply.payload).toEqual({
        outcome: 'SUCCESS',
        items: [
          { sku: b, quantity: 2, unitPriceCents: 1250 },
          { sku: a, quantity: 3, unitPriceCents: 300 },
        ],
        totalCents: 2 * 1250 + 3 * 300,
      });
      expect(await product(a)).toMatchObject({ available: 7, reserved: 3, sold: 0 });
      expect(await product(b)).toMatchObject({ available: 3, reserved: 2, sold: 0 });

      const confirmed = await roundTrip(command('inventory.saga.confirm', orderId, { items }));
      expect(confirmed.type).toBe('inventory.saga.reply');
      expect(confirmed.payload).toEqual({ outcome: 'SUCCESS' });
      expect(await product(a)).toMatchObject({ available: 7, reserved: 0, sold: 3 });
      expect(await product(b)).toMatchObject({ available: 3, reserved: 0, sold: 2 });

      // The branch is settled as sold: a release now is refused and moves nothing back.
      const late = await roundTrip(command('inventory.saga.release', orderId, { items }));
      expect(late.payload).toEqual({ outcome: 'FAILURE', reason: 'REFUSED' });
      expect(await product(a)).toMatchObject({ available: 7, reserved: 0, sold: 3 });
    });

    it('answers a TCC try with inventory.tcc.reply, and a cancel releases: reserved → available', async () => {
      const sku = `tcc-${RUN}`;
      await createProduct(sku, 4, 99);
      const orderId = ids.nextId();
      const tried = await roundTrip(
        command('inventory.tcc.try', orderId, { items: [{ sku, quantity: 4 }] }),
      );
      expect(tried.type).toBe('inventory.tcc.reply');
      expect(tried.payload).toEqual({
        outcome: 'SUCCESS',
        items: [{ sku, quantity: 4, unitPriceCents: 99 }],
        totalCents: 396,
      });
      expect(await product(sku)).toMatchObject({ available: 0, reserved: 4, sold: 0 });

      const lines = { items: [{ sku, quantity: 4 }] };
      const cancelled = await roundTrip(command('inventory.tcc.cancel', orderId, lines));
      expect(cancelled.type).toBe('inventory.tcc.reply');
      expect(cancelled.payload).toEqual({ outcome: 'SUCCESS' });
      expect(await product(sku)).toMatchObject({ available: 4, reserved: 0, sold: 0 });

      // A repeated cancel (new message, as a coordinator's retry) succeeds and changes nothing.
      const again = await roundTrip(command('inventory.tcc.cancel', orderId, lines));
      expect(again.payload).toEqual({ outcome: 'SUCCESS' });
      expect(await product(sku)).toMatchObject({ available: 4, reserved: 0, sold: 0 });
    });

    it('reserves all or nothing: the first SKU is not left reserved when the second runs out', async () => {
      const [first, second] = [`aon-1-${RUN}`, `aon-2-${RUN}`];
      await createProduct(first, 10);
      await createProduct(second, 1);
      const orderId = ids.nextId();
      const lines = {
        items: [
          { sku: first, quantity: 5 },
          { sku: second, quantity: 2 },
        ],
      };
      const reply = await roundTrip(command('inventory.tcc.try', orderId, lines));
      expect(reply.payload).toEqual({ outcome: 'FAILURE', reason: 'OUT_OF_STOCK' });
      expect(await product(first)).toMatchObject({ available: 10, reserved: 0, sold: 0 });
      expect(await product(second)).toMatchObject({ available: 1, reserved: 0, sold: 0 });

      // Its compensation has nothing to undo and must not add stock that was never taken.
      const cancelled = await roundTrip(command('inventory.tcc.cancel', orderId, lines));
      expect(cancelled.payload).toEqual({ outcome: 'SUCCESS' });
      expect(await product(first)).toMatchObject({ available: 10, reserved: 0, sold: 0 });
    });

    it('answers OUT_OF_STOCK for a single line asking more than is available', async () => {
      const sku = `oos-${RUN}`;
      await createProduct(sku, 2);
      const reply = await roundTrip(
        command('inventory.saga.reserve', ids.nextId(), { items: [{ sku, quantity: 3 }] }),
      );
      expect(reply.payload).toEqual({ outcome: 'FAILURE', reason: 'OUT_OF_STOCK' });
      expect(await product(sku)).toMatchObject({ available: 2, reserved: 0, sold: 0 });
    });

    it('answers UNKNOWN_PRODUCT for a SKU never created, reserving none of the others', async () => {
      const sku = `known-${RUN}`;
      await createProduct(sku, 5);
      const reply = await roundTrip(
        command('inventory.saga.reserve', ids.nextId(), {
          items: [
            { sku, quantity: 1 },
            { sku: `zz-unknown-${RUN}`, quantity: 1 },
          ],
        }),
      );
      expect(reply.payload).toEqual({ outcome: 'FAILURE', reason: 'UNKNOWN_PRODUCT' });
      expect(await product(sku)).toMatchObject({ available: 5, reserved: 0 });
    });

    it('reserves once for a duplicated command, and answers a re-sent one the same', async () => {
      const sku = `dup-${RUN}`;
      await createProduct(sku, 10, 700);
      const orderId = ids.nextId();
      const reserve = command('inventory.saga.reserve', orderId, { items: [{ sku, quantity: 4 }] });
      // The same message delivered twice (a producer retry): the inbox takes it once.
      await send(reserve, reserve);
      // A retry after a timeout is a NEW message for the same order and step: same answer.
      const retry = await roundTrip({ ...reserve, id: ids.nextId() });
      const first = repliesTo(reserve.id);
      expect(first).toHaveLength(1);
      expect(retry.payload).toEqual(first[0].payload);
      expect(retry.payload).toEqual({
        outcome: 'SUCCESS',
        items: [{ sku, quantity: 4, unitPriceCents: 700 }],
        totalCents: 2800,
      });
      expect(await product(sku)).toMatchObject({ available: 6, reserved: 4, sold: 0 });
    });

    it('treats a cancel before its try as a null compensation, then refuses the late try', async () => {
      const sku = `hang-${RUN}`;
      await createProduct(sku, 5);
      const orderId = ids.nextId();
      const lines = { items: [{ sku, quantity: 2 }] };
      const cancelled = await roundTrip(command('inventory.saga.release', orderId, lines));
      expect(cancelled.payload).toEqual({ outcome: 'SUCCESS' });
      expect(await product(sku)).toMatchObject({ available: 5, reserved: 0 });

      const late = await roundTrip(command('inventory.saga.reserve', orderId, lines));
      expect(late.payload).toEqual({ outcome: 'FAILURE', reason: 'REFUSED' });
      expect(await product(sku)).toMatchObject({ available: 5, reserved: 0, sold: 0 });
    });

    it('refuses a confirm without a successful try', async () => {
      const sku = `noconfirm-${RUN}`;
      await createProduct(sku, 1);
      const orderId = ids.nextId();
      const failed = await roundTrip(
        command('inventory.tcc.try', orderId, { items: [{ sku, quantity: 2 }] }),
      );
      expect(failed.payload).toEqual({ outcome: 'FAILURE', reason: 'OUT_OF_STOCK' });
      const confirm = await roundTrip(
        command('inventory.tcc.confirm', orderId, { items: [{ sku, quantity: 2 }] }),
      );
      expect(confirm.payload).toEqual({ outcome: 'FAILURE', reason: 'REFUSED' });
      expect(await product(sku)).toMatchObject({ available: 1, reserved: 0, sold: 0 });
    });

    it('keeps every figure consistent under concurrent orders for one product', async () => {
      const sku = `burst-${RUN}`;
      await createProduct(sku, 20, 10);
      const orders = Array.from({ length: 30 }, () =>
        command('inventory.tcc.try', ids.nextId(), { items: [{ sku, quantity: 1 }] }),
      );
      await send(...orders);
      await eventually('a reply to every try', () =>
        orders.every((order) => repliesTo(order.id).length === 1),
      );
      const outcomes = orders.map((order) => repliesTo(order.id)[0].payload.outcome);
      expect(outcomes.filter((outcome) => outcome === 'SUCCESS')).toHaveLength(20);
      expect(outcomes.filter((outcome) => outcome === 'FAILURE')).toHaveLength(10);
      expect(await product(sku)).toMatchObject({ available: 0, reserved: 20, sold: 0 });

      // Half confirmed, half cancelled: stock created = available + reserved + sold throughout.
      const settle = orders.map((order, index) =>
        command(index % 2 ? 'inventory.tcc.confirm' : 'inventory.tcc.cancel', order.correlationId, {
          items: [{ sku, quantity: 1 }],
        }),
      );
      await send(...settle);
      await eventually('a reply to every confirm and cancel', () =>
        settle.every((message) => repliesTo(message.id).length === 1),
      );
      const settled = await product(sku);
      expect(settled.reserved).toBe(0);
      expect(settled.available + settled.sold).toBe(20);
      const sold = orders.filter(
        (order, index) => index % 2 === 1 && repliesTo(order.id)[0].payload.outcome === 'SUCCESS',
      ).length;
      expect(settled.sold).toBe(sold);
    });

    it('dead-letters a confirm or release naming other lines than the try reserved', async () => {
      const sku = `mismatch-${RUN}`;
      await createProduct(sku, 10, 500);
      const orderId = ids.nextId();
      const reserved = { items: [{ sku, quantity: 3 }] };
      const tried = await roundTrip(command('inventory.tcc.try', orderId, reserved));
      expect(tried.payload).toMatchObject({ outcome: 'SUCCESS' });
      const forged = [
        command('inventory.tcc.confirm', orderId, { items: [{ sku, quantity: 1 }] }),
        command('inventory.tcc.cancel', orderId, { items: [{ sku: `${sku}-x`, quantity: 3 }] }),
      ];
      await send(...forged);
      const dlq = deadLetterTopic(TOPICS.inventoryCommands);
      await eventually('both forged settlements dead-lettered', () =>
        forged.every((f) => deadLetters.of(dlq).some((m) => m.value?.toString().includes(f.id))),
      );
      for (const letter of deadLetters.of(dlq).map(readDeadLetter)) {
        if (forged.some((f) => letter.value?.includes(f.id))) {
          expect(letter.error).toContain('not the reserved ones');
        }
      }
      for (const f of forged) expect(repliesTo(f.id)).toHaveLength(0);
      // Nothing moved, and the branch is still open for its real settlement.
      expect(await product(sku)).toMatchObject({ available: 7, reserved: 3, sold: 0 });
      const confirmed = await roundTrip(command('inventory.tcc.confirm', orderId, reserved));
      expect(confirmed.payload).toEqual({ outcome: 'SUCCESS' });
      expect(await product(sku)).toMatchObject({ available: 7, reserved: 0, sold: 3 });
    });

    it.each<[string, (orderId: string) => Envelope, string]>([
      [
        'a quantity as a string',
        (orderId) =>
          command('inventory.saga.reserve', orderId, {
            items: [{ sku: `dlq-${RUN}`, quantity: '2' as unknown as number }],
          }),
        'items.0.quantity',
      ],
      [
        'no items',
        (orderId) => command('inventory.tcc.try', orderId, { items: [] }),
        'items must be',
      ],
      [
        'repeated SKUs',
        (orderId) =>
          command('inventory.tcc.try', orderId, {
            items: [
              { sku: `dlq-${RUN}`, quantity: 1 },
              { sku: `dlq-${RUN}`, quantity: 1 },
            ],
          }),
        'repeated',
      ],
      [
        'a confirm without its lines',
        (orderId) => command('inventory.tcc.confirm', orderId, {}),
        'items must be',
      ],
      [
        'an orderId that is not the correlation id',
        (orderId) => ({
          ...command('inventory.tcc.confirm', orderId, {}),
          payload: { orderId: '12345' },
        }),
        'correlationId',
      ],
    ])('dead-letters a command with %s, reserving nothing', async (_case, build, error) => {
      const sku = `dlq-${RUN}`;
      if ((await request('GET', `/products/${sku}`)).status === 404) await createProduct(sku, 9);
      const poison = build(ids.nextId());
      await send(poison);
      await eventually(`${poison.id} in ${deadLetterTopic(TOPICS.inventoryCommands)}`, () =>
        deadLetters
          .of(deadLetterTopic(TOPICS.inventoryCommands))
          .some((message) => message.value?.toString().includes(poison.id)),
      );
      const letter = deadLetters
        .of(deadLetterTopic(TOPICS.inventoryCommands))
        .map(readDeadLetter)
        .find((dead) => dead.value?.includes(poison.id))!;
      expect(letter.error).toContain('InvalidMessageError');
      expect(letter.error).toContain(error);
      expect(letter.attempts).toBe(1);
      expect(repliesTo(poison.id)).toHaveLength(0);
      expect(await product(sku)).toMatchObject({ available: 9, reserved: 0, sold: 0 });
    });
  });
});
