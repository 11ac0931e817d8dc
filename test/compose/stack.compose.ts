// The stack `docker compose up` runs, used as a user would: through the ports docker-compose.yml
// publishes. scripts/compose-ci/run.sh (npm run test:compose) brings the real compose file up
// in a network namespace of its own and runs this suite inside it, so 127.0.0.1 here is that
// namespace's and the host's own servers on the same ports are not in the way. Tokens come from
// the stack's own issuer on its published port (AUTH_ISSUER, set by run.sh), signed in with the
// tools client secret that `npm run compose:env` handed the issuer.
import { describe, expect, it } from '@jest/globals';
import { authorization, OPERATOR, type Caller } from '../support/tokens.js';

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

async function call<T>(
  caller: Caller,
  service: Service,
  method: string,
  path: string,
  body?: unknown,
) {
  const response = await fetch(`${URLS[service]}${path}`, {
    method,
    headers: {
      ...(await authorization(caller)),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function terminal(caller: Caller, id: string): Promise<Order> {
  // CONTRACT.md: without faults every order is terminal within 30 s.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await call<Order>(caller, 'order', 'GET', `/orders/${id}`);
    if (body.status !== 'PENDING') return body;
    if (Date.now() > deadline) throw new Error(`order ${id} still PENDING after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the stack docker-compose.yml runs', () => {
  it.each(Object.keys(URLS) as Service[])('%s is ready on its published port', async (name) => {
    const { status } = await call('anonymous', name, 'GET', '/health/ready');
    expect(status).toBe(200);
  });

  it('refuses an order without a token', async () => {
    const order = { customerId: `compose-${RUN}`, items: [{ sku: 'any', quantity: 1 }] };
    expect((await call('anonymous', 'order', 'POST', '/orders', order)).status).toBe(401);
  });

  describe.each(STRATEGIES)('an order by %s', (strategy) => {
    const sku = `compose-${RUN}-${strategy}`;
    const customerId = `compose-${RUN}-${strategy}`;
    const customer: Caller = { customerId };

    it('is COMPLETED when stock and funds suffice, and CANCELLED as OUT_OF_STOCK when not', async () => {
      expect(
        (
          await call(OPERATOR, 'inventory', 'POST', '/products', {
            sku,
            name: sku,
            priceCents: 250,
            stock: 3,
          })
        ).status,
      ).toBe(201);
      expect(
        (await call(OPERATOR, 'payment', 'POST', '/accounts', { customerId, balanceCents: 10_000 }))
          .status,
      ).toBe(201);

      const place = async (quantity: number) => {
        const { status, body } = await call<Order>(customer, 'order', 'POST', '/orders', {
          customerId,
          strategy,
          items: [{ sku, quantity }],
        });
        expect(status).toBe(202);
        return terminal(customer, body.id);
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

      expect((await call(customer, 'inventory', 'GET', `/products/${sku}`)).body).toMatchObject({
        available: 1,
        reserved: 0,
        sold: 2,
      });
      expect((await call(customer, 'payment', 'GET', `/accounts/${customerId}`)).body).toEqual({
        customerId,
        availableCents: 9_500,
        frozenCents: 0,
        spentCents: 500,
      });
    });
  });
});
