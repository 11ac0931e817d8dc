// The built order service alone, against the real Postgres shards, Kafka and Redis: its REST
// API per CONTRACT.md — every kind of bad input answered 4xx naming the field, never 5xx —,
// Idempotency-Key (replay, other body, concurrent first requests, a crash between the key and
// the order), and ids above 2^53 round-tripping exactly. The flows themselves: flow.test.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { DEFAULTS, env, loadConfig } from '@app/dist-core/config';
import { HashRing } from '@app/dist-core/hashing';
import { shardName } from '@app/dist-core/sharding';
import { composeSnowflakeId } from '@app/dist-core/snowflake';
import { requestHash } from '../../apps/order/src/orders/idempotency-keys.js';
import { runSuffix } from '../support/kafka.js';
import { startService, testPort, type RunningService } from '../support/services.js';

const RUN = runSuffix();
// Its own port, so that another suite's order service on the default test port does not collide.
const PORT = testPort(10);

interface OrderBody {
  id: string;
  customerId: string;
  strategy: string;
  status: string;
  reason: string | null;
  items: { sku: string; quantity: number; unitPriceCents: number | null }[];
  totalCents: number | null;
  createdAt: string;
  updatedAt: string;
  history: unknown[];
}

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

interface Answer {
  status: number;
  body: unknown;
  text: string;
}

const line = (sku: string, quantity = 1) => ({ sku, quantity });

describe('order service REST API', () => {
  let service: RunningService;

  beforeAll(async () => {
    service = startService('order', { ORDER_PORT: PORT });
    await service.waitForHealth(200);
  }, 120_000);

  afterAll(async () => {
    const exit = await service?.stop();
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
  });

  const request = async (
    method: string,
    path: string,
    options: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> => {
    const hasBody = options.body !== undefined || options.raw !== undefined;
    const response = await service.fetch(path, {
      method,
      headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...options.headers },
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    return { status: response.status, body: JSON.parse(text) as unknown, text };
  };

  const place = (body: unknown, key?: string) =>
    request('POST', '/orders', { body, headers: key ? { 'Idempotency-Key': key } : {} });

  /** A 4xx of the error shape whose message names `field`; never a 5xx. */
  const expectRejected = (answer: Answer, status: number, field: string) => {
    expect(answer.status).toBe(status);
    const error = answer.body as ErrorBody;
    expect(error.statusCode).toBe(status);
    expect(error.message).toContain(field);
  };

  describe('POST /orders', () => {
    it('answers 202 with a PENDING order, default strategy saga, that GET /orders/:id returns', async () => {
      const customerId = `api-${RUN}-a`;
      const placed = await place({ customerId, items: [line('SKU-A', 2), line('SKU-B', 1)] });
      expect(placed.status).toBe(202);
      const order = placed.body as OrderBody;
      expect(order).toEqual({
        id: expect.stringMatching(/^[1-9][0-9]*$/),
        customerId,
        strategy: 'saga',
        status: 'PENDING',
        reason: null,
        items: [
          { sku: 'SKU-A', quantity: 2, unitPriceCents: null },
          { sku: 'SKU-B', quantity: 1, unitPriceCents: null },
        ],
        totalCents: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        history: [],
      });
      expect(new Date(order.createdAt).toISOString()).toBe(order.createdAt);

      const read = await request('GET', `/orders/${order.id}`);
      expect(read.status).toBe(200);
      expect((read.body as OrderBody).id).toBe(order.id);
      expect((read.body as OrderBody).customerId).toBe(customerId);
    });

    it('keeps ids above 2^53 exact: the id is a JSON string and reads back under the same digits', async () => {
      const placed = await place({ customerId: `api-${RUN}-big`, items: [line('SKU-A')] });
      // Parsed as a number, a Snowflake id of today would lose its last digits.
      expect(placed.text).toMatch(/"id":"[1-9][0-9]{15,18}"/);
      const { id } = placed.body as OrderBody;
      expect(BigInt(id) > 2n ** 53n).toBe(true);
      const read = await request('GET', `/orders/${id}`);
      expect(read.text).toContain(`"id":"${id}"`);
    });

    it.each(['tcc', '2pc'])('takes strategy %s', async (strategy) => {
      const placed = await place({
        customerId: `api-${RUN}-${strategy}`,
        items: [line('SKU-A')],
        strategy,
      });
      expect(placed.status).toBe(202);
      expect((placed.body as OrderBody).strategy).toBe(strategy);
      const read = await request('GET', `/orders/${(placed.body as OrderBody).id}`);
      expect((read.body as OrderBody).strategy).toBe(strategy);
    });

    it('accepts the limits: 100 distinct lines, quantity 1 and 10000, 64-character names', async () => {
      const long = 'x'.repeat(64);
      const items = Array.from({ length: 100 }, (_, i) => line(`SKU-${i}`, i === 0 ? 10_000 : 1));
      items[1] = line(long, 1);
      const placed = await place({ customerId: `c.${long}`.slice(0, 64), items });
      expect(placed.status).toBe(202);
      expect((placed.body as OrderBody).items).toHaveLength(100);
    });

    const valid = { customerId: `api-${RUN}-v`, items: [line('SKU-A', 1)] };
    const badBodies: [string, unknown, string][] = [
      ['customerId missing', { items: valid.items }, 'customerId'],
      ['customerId a number', { ...valid, customerId: 42 }, 'customerId'],
      ['customerId empty', { ...valid, customerId: '' }, 'customerId'],
      ['customerId of 65 characters', { ...valid, customerId: 'c'.repeat(65) }, 'customerId'],
      ['customerId with a space', { ...valid, customerId: 'a b' }, 'customerId'],
      ['customerId with a slash', { ...valid, customerId: 'a/b' }, 'customerId'],
      ['customerId non-ASCII', { ...valid, customerId: 'kundé' }, 'customerId'],
      ['customerId null', { ...valid, customerId: null }, 'customerId'],
      ['items missing', { customerId: valid.customerId }, 'items'],
      ['items an object', { ...valid, items: { sku: 'A', quantity: 1 } }, 'items'],
      ['items empty', { ...valid, items: [] }, 'items'],
      [
        'items over 100',
        { ...valid, items: Array.from({ length: 101 }, (_, i) => line(`S${i}`)) },
        'items',
      ],
      ['a line null', { ...valid, items: [null] }, 'items.0'],
      ['a line a string', { ...valid, items: ['SKU-A'] }, 'items.0'],
      ['sku missing', { ...valid, items: [{ quantity: 1 }] }, 'items.0.sku'],
      ['sku a number', { ...valid, items: [{ sku: 7, quantity: 1 }] }, 'items.0.sku'],
      ['sku empty', { ...valid, items: [line('')] }, 'items.0.sku'],
      ['sku of 65 characters', { ...valid, items: [line('s'.repeat(65))] }, 'items.0.sku'],
      ['sku with illegal characters', { ...valid, items: [line('SKU;DROP')] }, 'items.0.sku'],
      ['quantity missing', { ...valid, items: [{ sku: 'A' }] }, 'items.0.quantity'],
      ['quantity 0', { ...valid, items: [line('A', 0)] }, 'items.0.quantity'],
      ['quantity negative', { ...valid, items: [line('A', -1)] }, 'items.0.quantity'],
      ['quantity 10001', { ...valid, items: [line('A', 10_001)] }, 'items.0.quantity'],
      ['quantity fractional', { ...valid, items: [line('A', 1.5)] }, 'items.0.quantity'],
      ['quantity a string', { ...valid, items: [{ sku: 'A', quantity: '2' }] }, 'items.0.quantity'],
      ['quantity huge', { ...valid, items: [line('A', 1e300)] }, 'items.0.quantity'],
      ['duplicate SKUs', { ...valid, items: [line('A'), line('B'), line('A', 2)] }, 'items'],
      ['an unknown field in a line', { ...valid, items: [{ ...line('A'), price: 1 }] }, 'price'],
      ['an unknown top-level field', { ...valid, totalCents: 1 }, 'totalCents'],
      ['strategy unknown', { ...valid, strategy: 'xa' }, 'strategy'],
      ['strategy a number', { ...valid, strategy: 1 }, 'strategy'],
      ['strategy null', { ...valid, strategy: null }, 'strategy'],
      ['a JSON array body', [valid], 'customerId'],
    ];
    it.each(badBodies)('rejects %s with 400 naming the field', async (_what, body, field) => {
      expectRejected(await place(body), 400, field);
    });

    it('rejects malformed JSON, a JSON scalar and an empty body with 400', async () => {
      for (const raw of ['{"customerId": "a", "items": [', "{'customerId': 'a'}", '"text"', '42']) {
        const answer = await request('POST', '/orders', { raw });
        expect(answer.status).toBe(400);
        expect((answer.body as ErrorBody).statusCode).toBe(400);
      }
      expectRejected(await request('POST', '/orders'), 400, 'customerId');
    });

    it('rejects a 2 MiB body with 413', async () => {
      const raw = JSON.stringify({ customerId: 'c', items: [line('A')], pad: 'x'.repeat(2 << 20) });
      const answer = await request('POST', '/orders', { raw });
      expect(answer.status).toBe(413);
      expect((answer.body as ErrorBody).statusCode).toBe(413);
    });

    it('rejects a malformed Idempotency-Key with 400 naming it', async () => {
      for (const key of ['has space', 'k'.repeat(256)]) {
        expectRejected(await place(valid, key), 400, 'Idempotency-Key');
      }
    });
  });

  describe('Idempotency-Key', () => {
    it('returns the same order for a replay, and 422 for another body under the key', async () => {
      const key = `key-${RUN}-1`;
      const body = { customerId: `api-${RUN}-i1`, items: [line('SKU-A', 2)] };
      const first = await place(body, key);
      expect(first.status).toBe(202);
      const { id } = first.body as OrderBody;

      const replay = await place(body, key);
      expect(replay.status).toBe(202);
      expect((replay.body as OrderBody).id).toBe(id);
      // The default strategy written out is the same request.
      const explicit = await place({ ...body, strategy: 'saga' }, key);
      expect(explicit.status).toBe(202);
      expect((explicit.body as OrderBody).id).toBe(id);

      for (const other of [
        { ...body, items: [line('SKU-A', 3)] },
        { ...body, strategy: 'tcc' },
      ]) {
        const misuse = await place(other, key);
        expectRejected(misuse, 422, 'Idempotency-Key');
      }
      // The misuse created nothing. (Another customer's use of the key is no misuse: keys are
      // per customer, test/e2e/hostile-input.test.ts.)
      const listed = await request('GET', `/orders?customerId=${body.customerId}`);
      expect((listed.body as { items: OrderBody[] }).items.map((o) => o.id)).toEqual([id]);
    });

    it('creates one order for 10 concurrent requests with one key', async () => {
      const key = `key-${RUN}-concurrent`;
      const customerId = `api-${RUN}-i10`;
      const body = { customerId, items: [line('SKU-A', 1)], strategy: 'tcc' };
      const answers = await Promise.all(Array.from({ length: 10 }, () => place(body, key)));
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
      const ids = new Set(answers.map((a) => (a.body as OrderBody).id));
      expect(ids.size).toBe(1);
      const listed = await request('GET', `/orders?customerId=${customerId}`);
      const items = (listed.body as { items: OrderBody[] }).items;
      expect(items.map((o) => o.id)).toEqual([...ids]);
    });

    it('finishes the order of a key claimed by a request that died before creating it', async () => {
      // What a crash between the two steps leaves: the key's row naming an order id, no order.
      const key = `key-${RUN}-crash`;
      const customerId = `api-${RUN}-crash`;
      const body = { customerId, items: [line('SKU-A', 4)] };
      const orderId = composeSnowflakeId({ timestampMs: Date.now(), workerId: 1023, sequence: 7 });
      const urls = loadConfig({
        ORDER_DB_SHARDS: env.postgresUrls(DEFAULTS.ORDER_DB_SHARDS),
      }).ORDER_DB_SHARDS;
      const ring = new HashRing(urls.map((_, i) => shardName(i)));
      const client = new pg.Client({ connectionString: urls[ring.ownerIndex(key)] });
      await client.connect();
      try {
        await client.query(
          `INSERT INTO idempotency_keys (customer_id, key, request_hash, order_id)
           VALUES ($1, $2, $3, $4)`,
          [customerId, key, requestHash({ ...body, strategy: 'saga' }), orderId],
        );
      } finally {
        await client.end();
      }

      const replays = await Promise.all([place(body, key), place(body, key)]);
      for (const replay of replays) {
        expect(replay.status).toBe(202);
        expect((replay.body as OrderBody).id).toBe(orderId);
      }
      const listed = await request('GET', `/orders?customerId=${customerId}`);
      expect((listed.body as { items: OrderBody[] }).items.map((o) => o.id)).toEqual([orderId]);
      expect(replays[0].text).toContain(`"id":"${orderId}"`);
    });
  });

  describe('GET /orders/:id', () => {
    it.each([
      ['0'],
      ['-1'],
      ['+1'],
      ['01'],
      ['1.0'],
      ['1e5'],
      ['abc'],
      ['0x1F'],
      ['%201'],
      ['9223372036854775808'],
      ['99999999999999999999'],
    ])('rejects %s with 400 naming the id', async (id) => {
      expectRejected(await request('GET', `/orders/${id}`), 400, 'id');
    });

    it('answers 404 for an unknown id, including the largest one', async () => {
      for (const id of ['1', '9223372036854775807']) {
        expectRejected(await request('GET', `/orders/${id}`), 404, id);
      }
    });

    it('answers 404 for unknown paths', async () => {
      expect((await request('GET', '/orders/1/items')).status).toBe(404);
      expect((await request('DELETE', '/orders/1')).status).toBe(404);
    });
  });

  describe('GET /orders?customerId=', () => {
    it("lists a customer's orders newest first, across shards, up to limit", async () => {
      const customerId = `api-${RUN}-list`;
      const placed: string[] = [];
      for (let i = 0; i < 6; i++) {
        const answer = await place({ customerId, items: [line(`SKU-${i}`)] });
        placed.push((answer.body as OrderBody).id);
      }
      const newestFirst = [...placed].reverse();
      const all = await request('GET', `/orders?customerId=${customerId}`);
      expect(all.status).toBe(200);
      const items = (all.body as { items: OrderBody[] }).items;
      expect(items.map((o) => o.id)).toEqual(newestFirst);
      expect(items[0]).toMatchObject({ customerId, items: [{ sku: 'SKU-5', quantity: 1 }] });
      expect(Array.isArray(items[0].history)).toBe(true);

      const two = await request('GET', `/orders?customerId=${customerId}&limit=2`);
      expect((two.body as { items: OrderBody[] }).items.map((o) => o.id)).toEqual(
        newestFirst.slice(0, 2),
      );
      const none = await request('GET', `/orders?customerId=api-${RUN}-nobody`);
      expect(none.body).toEqual({ items: [] });
    });

    it.each([
      ['', 'customerId'],
      ['?limit=5', 'customerId'],
      ['?customerId=', 'customerId'],
      ['?customerId=a%20b', 'customerId'],
      [`?customerId=${'c'.repeat(65)}`, 'customerId'],
      ['?customerId=a&customerId=b', 'customerId'],
      ['?customerId=a&limit=0', 'limit'],
      ['?customerId=a&limit=101', 'limit'],
      ['?customerId=a&limit=-1', 'limit'],
      ['?customerId=a&limit=2.5', 'limit'],
      ['?customerId=a&limit=abc', 'limit'],
      ['?customerId=a&limit=1e1', 'limit'],
      ['?customerId=a&limit=', 'limit'],
      ['?customerId=a&other=1', 'other'],
    ])('rejects %s with 400 naming the field', async (query, field) => {
      expectRejected(await request('GET', `/orders${query}`), 400, field);
    });
  });

  describe('admin', () => {
    it('lists parked sagas and refuses to retry one that is not parked', async () => {
      const parked = await request('GET', '/admin/sagas/parked');
      expect(parked.status).toBe(200);
      expect(Array.isArray((parked.body as { items: unknown[] }).items)).toBe(true);
      expectRejected(await request('POST', '/admin/sagas/1/retry'), 404, '1');
      expectRejected(await request('POST', '/admin/sagas/abc/retry'), 400, 'id');
      const placed = await place({ customerId: `api-${RUN}-adm`, items: [line('SKU-A')] });
      const { id } = placed.body as OrderBody;
      expectRejected(await request('POST', `/admin/sagas/${id}/retry`), 409, 'not PARKED');
    });
  });

  it('documents every endpoint in Swagger', async () => {
    const doc = (await request('GET', '/docs-json')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/orders',
        '/orders/{id}',
        '/admin/sagas/parked',
        '/admin/sagas/{id}/retry',
      ]),
    );
    expect(Object.keys(doc.paths['/orders'])).toEqual(expect.arrayContaining(['get', 'post']));
  });

  it('never answered a 5xx nor logged an unexpected error', () => {
    expect(service.output.join('')).not.toMatch(/Internal server error|HttpErrorFilter/);
  });
});
