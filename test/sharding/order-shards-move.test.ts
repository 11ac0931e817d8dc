// The built order service during a move (ORDER_DB_SHARDS_PREVIOUS set), against the real
// Postgres shards: orders and idempotency keys written under the previous ring, still on their
// previous owner, are found by GET /orders/:id, by the customer's list and by a replayed
// Idempotency-Key; a row on two shards (a batch copied but not yet deleted) is listed once.
//
// The previous ring is the first two default shards, the new one all three: a third of the
// keys move, all to shard-2. The rows are written here with SQL, as the service on the previous
// ring wrote them, so no flow runs and no Kafka message is sent for them.
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
const PORT = testPort(70);
const URLS = loadConfig({
  ORDER_DB_SHARDS: env.postgresUrls(DEFAULTS.ORDER_DB_SHARDS),
}).ORDER_DB_SHARDS;
const PREVIOUS_URLS = URLS.slice(0, 2);
const ringOf = (urls: string[]) => new HashRing(urls.map((_, i) => shardName(i)));
const NEW_RING = ringOf(URLS);
const OLD_RING = ringOf(PREVIOUS_URLS);
const CUSTOMER = `move-${RUN}`;
const BODY = { customerId: CUSTOMER, items: [{ sku: 'SKU-A', quantity: 2 }] };

/** Keys (ids, idempotency keys) whose owner is another shard under the new ring. */
function moving<T extends string>(candidates: () => T): T {
  for (;;) {
    const key = candidates();
    if (OLD_RING.ownerIndex(key) !== NEW_RING.ownerIndex(key)) return key;
  }
}
let sequence = 0;
const movingId = () =>
  moving(() =>
    composeSnowflakeId({ timestampMs: Date.now(), workerId: 1023, sequence: sequence++ % 4096 }),
  );

async function onShard<T>(index: number, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: URLS[index] });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const insertOrder = (index: number, id: string, key: string | null = null) =>
  onShard(index, (client) =>
    client.query(
      `INSERT INTO orders (id, customer_id, strategy, status, items, idempotency_key,
         request_hash, created_at, updated_at)
       VALUES ($1, $2, 'saga', 'PENDING', $3::jsonb, $4, $5, now(), now())`,
      [
        id,
        CUSTOMER,
        JSON.stringify([{ sku: 'SKU-A', quantity: 2, unitPriceCents: null }]),
        key,
        key && requestHash({ ...BODY, strategy: 'saga' }),
      ],
    ),
  );

const ordersOn = (index: number, id: string) =>
  onShard(
    index,
    async (client) => (await client.query('SELECT 1 FROM orders WHERE id = $1', [id])).rowCount,
  );

describe('order service during a move (ORDER_DB_SHARDS_PREVIOUS)', () => {
  let service: RunningService;
  const unmoved = movingId(); // on its previous owner only
  const copied = movingId(); // on both owners, as a batch cut between copy and delete leaves it
  const key = moving(() => `key-${RUN}-${sequence++}`);
  const keyed = movingId(); // the order the key names, on its previous owner

  beforeAll(async () => {
    await insertOrder(OLD_RING.ownerIndex(unmoved), unmoved);
    await insertOrder(OLD_RING.ownerIndex(copied), copied);
    await insertOrder(NEW_RING.ownerIndex(copied), copied);
    await insertOrder(OLD_RING.ownerIndex(keyed), keyed, key);
    await onShard(OLD_RING.ownerIndex(key), (client) =>
      client.query(
        `INSERT INTO idempotency_keys (customer_id, key, request_hash, order_id)
         VALUES ($1, $2, $3, $4)`,
        [CUSTOMER, key, requestHash({ ...BODY, strategy: 'saga' }), keyed],
      ),
    );
    service = startService('order', {
      ORDER_PORT: PORT,
      ORDER_DB_SHARDS: URLS.join(','),
      ORDER_DB_SHARDS_PREVIOUS: PREVIOUS_URLS.join(','),
    });
    await service.waitForHealth(200);
  }, 120_000);

  afterAll(async () => {
    const exit = await service?.stop();
    for (let i = 0; i < URLS.length; i++) {
      await onShard(i, async (client) => {
        await client.query('DELETE FROM orders WHERE customer_id = $1', [CUSTOMER]);
        await client.query('DELETE FROM idempotency_keys WHERE customer_id = $1', [CUSTOMER]);
      });
    }
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('finds by id an order still on its previous owner', async () => {
    expect(await ordersOn(NEW_RING.ownerIndex(unmoved), unmoved)).toBe(0);
    const response = await service.fetch(`/orders/${unmoved}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: unmoved, customerId: CUSTOMER });
  });

  it("lists the customer's orders from both rings, an order on two shards once", async () => {
    const response = await service.fetch(`/orders?customerId=${CUSTOMER}`);
    expect(response.status).toBe(200);
    const { items } = (await response.json()) as { items: { id: string }[] };
    const newestFirst = [unmoved, copied, keyed].sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : -1));
    expect(items.map((o) => o.id)).toEqual(newestFirst);
  });

  it('answers a replayed Idempotency-Key claimed under the previous ring with its order', async () => {
    const response = await service.fetch('/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Idempotency-Key': key },
      body: JSON.stringify(BODY),
    });
    expect(response.status).toBe(202);
    expect(((await response.json()) as { id: string }).id).toBe(keyed);
    // Not a second order (nor a second claim) on the new owners.
    expect(await ordersOn(NEW_RING.ownerIndex(keyed), keyed)).toBe(0);
    const claims = await onShard(NEW_RING.ownerIndex(key), (client) =>
      client.query('SELECT 1 FROM idempotency_keys WHERE customer_id = $1 AND key = $2', [
        CUSTOMER,
        key,
      ]),
    );
    expect(claims.rowCount).toBe(0);
  });
});
