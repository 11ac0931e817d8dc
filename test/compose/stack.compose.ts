// The stack `docker compose up` runs, used as a user would: through the ports docker-compose.yml
// publishes. scripts/compose-ci/run.sh (npm run test:compose) brings the real compose file up
// in a network namespace of its own and runs this suite inside it, so 127.0.0.1 here is that
// namespace's and the host's own servers on the same ports are not in the way.
import { describe, expect, it } from '@jest/globals';

const RUN = Date.now().toString(36);
const HOST = process.env.COMPOSE_HOST ?? '127.0.0.1';
const URLS = {
  order: `http://${HOST}:3000`,
  payment: `http://${HOST}:3001`,
  inventory: `http://${HOST}:3002`,
};
type Service = keyof typeof URLS;
const STRATEGIES = ['saga', 'tcc'] as const;

interface Order {
  id: string;
  strategy: string;
  status: 'PENDING' | 'COMPLETED' | 'CANCELLED';
  reason: string | null;
  totalCents: number | null;
}

async function call<T>(service: Service, method: string, path: string, body?: unknown) {
  const response = await fetch(`${URLS[service]}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function terminal(id: string): Promise<Order> {
  // CONTRACT.md: without faults every order is terminal within 30 s.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await call<Order>('order', 'GET', `/orders/${id}`);
    if (body.status !== 'PENDING') return body;
    if (Date.now() > deadline) throw new Error(`order ${id} still PENDING after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the stack docker-compose.yml runs', () => {
  it.each(Object.keys(URLS) as Service[])('%s is ready on its published port', async (name) => {
    const { status } = await call(name, 'GET', '/health');
    expect(status).toBe(200);
  });

  describe.each(STRATEGIES)('an order by %s', (strategy) => {
    const sku = `compose-${RUN}-${strategy}`;
    const customerId = `compose-${RUN}-${strategy}`;

    it('is COMPLETED when stock and funds suffice, and CANCELLED as OUT_OF_STOCK when not', async () => {
      expect(
        (
          await call('inventory', 'POST', '/products', {
            sku,
            name: sku,
            priceCents: 250,
            stock: 3,
          })
        ).status,
      ).toBe(201);
      expect(
        (await call('payment', 'POST', '/accounts', { customerId, balanceCents: 10_000 })).status,
      ).toBe(201);

      const place = async (quantity: number) => {
        const { status, body } = await call<Order>('order', 'POST', '/orders', {
          customerId,
          strategy,
          items: [{ sku, quantity }],
        });
        expect(status).toBe(202);
        return terminal(body.id);
      };

      expect(await place(2)).toMatchObject({
        strategy,
        status: 'COMPLETED',
        reason: null,
        totalCents: 500,
      });
      expect(await place(2)).toMatchObject({
        strategy,
        status: 'CANCELLED',
        reason: 'OUT_OF_STOCK',
      });

      expect((await call('inventory', 'GET', `/products/${sku}`)).body).toMatchObject({
        available: 1,
        reserved: 0,
        sold: 2,
      });
      expect((await call('payment', 'GET', `/accounts/${customerId}`)).body).toEqual({
        customerId,
        availableCents: 9_500,
        frozenCents: 0,
        spentCents: 500,
      });
    });
  });
});
