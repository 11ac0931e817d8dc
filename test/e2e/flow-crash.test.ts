// Processes killed mid-flow: each of the three services is SIGKILLed while orders of all three
// strategies are in flight, then restarted. CONTRACT.md: every order is terminal within 60 s of
// the last restart, and the invariants hold — nothing lost (outbox, leased recovery), nothing
// done twice (inbox, barrier), whichever process died.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runSuffix } from '../support/kafka.js';
import { preparedTransactionsOf } from '../support/prepared-transactions.js';
import {
  startService,
  testPort,
  type RunningService,
  type ServiceName,
} from '../support/services.js';
import { asCustomer, type Caller } from '../support/tokens.js';

const RUN = runSuffix();
const PORTS: Record<ServiceName, string> = {
  order: testPort(50),
  payment: testPort(51),
  inventory: testPort(52),
};
const PORT_VARIABLE: Record<ServiceName, string> = {
  order: 'ORDER_PORT',
  payment: 'PAYMENT_PORT',
  inventory: 'INVENTORY_PORT',
};
const TERMINAL_AFTER_RESTART_MS = 60_000;
const ORDERS_PER_CRASH = 12;
const PRICE_CENTS = 300;
const STRATEGIES = ['saga', 'tcc', '2pc'] as const;

interface Order {
  id: string;
  customerId: string;
  status: 'PENDING' | 'COMPLETED' | 'CANCELLED';
  reason: string | null;
  items: { sku: string; quantity: number; unitPriceCents: number | null }[];
  totalCents: number | null;
}

describe('orders in flight while a service is killed and restarted', () => {
  const services = new Map<ServiceName, RunningService>();
  const start = (name: ServiceName) => {
    const service = startService(name, { [PORT_VARIABLE[name]]: PORTS[name] });
    services.set(name, service);
    return service.waitForHealth(200);
  };

  beforeAll(async () => {
    await Promise.all((['order', 'payment', 'inventory'] as const).map(start));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...services.values()].map((s) => s.stop()));
  });

  const call = <T>(name: ServiceName, method: string, path: string, body?: unknown, as?: Caller) =>
    services.get(name)!.request<T>(method, path, body, as);

  const sku = `crash-${RUN}`;
  const STOCK = 1_000;
  const customers = [0, 1, 2].map((i) => ({
    customerId: `crash-${RUN}-${i}`,
    // The last customer cannot pay: compensations run during the crashes too.
    balanceCents: i < 2 ? 1_000_000 : PRICE_CENTS - 1,
  }));
  const placed: string[] = [];

  const placeBatch = async () => {
    const answers = await Promise.all(
      Array.from({ length: ORDERS_PER_CRASH }, (_, i) =>
        call<Order>(
          'order',
          'POST',
          '/orders',
          {
            customerId: customers[i % customers.length].customerId,
            items: [{ sku, quantity: 1 + (i % 3) }],
            // Runs of three, one per customer: every strategy meets every customer.
            strategy: STRATEGIES[Math.floor(i / customers.length) % STRATEGIES.length],
          },
          asCustomer(customers[i % customers.length].customerId),
        ),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(ORDERS_PER_CRASH).fill(202));
    const ids = answers.map((a) => a.body.id);
    placed.push(...ids);
    return ids;
  };

  const allTerminal = async (ids: string[], timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const orders = await Promise.all(
        ids.map(async (id) => (await call<Order>('order', 'GET', `/orders/${id}`)).body),
      );
      const pending = orders.filter((o) => o.status === 'PENDING');
      if (pending.length === 0) return orders;
      if (Date.now() > deadline) {
        throw new Error(`${pending.length} orders still PENDING: ${JSON.stringify(pending[0])}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };

  it('sets up a product and three accounts', async () => {
    expect(
      (
        await call('inventory', 'POST', '/products', {
          sku,
          name: 'crash',
          priceCents: PRICE_CENTS,
          stock: STOCK,
        })
      ).status,
    ).toBe(201);
    for (const c of customers)
      expect((await call('payment', 'POST', '/accounts', c)).status).toBe(201);
  });

  it.each<[ServiceName]>([['order'], ['inventory'], ['payment']])(
    'finishes every order after %s is SIGKILLed mid-flow and restarted',
    async (victim) => {
      const ids = await placeBatch();
      // Each flow takes several Kafka round trips, so most are still running now.
      const before = await Promise.all(
        ids.map(async (id) => (await call<Order>('order', 'GET', `/orders/${id}`)).body.status),
      );
      expect(before.filter((status) => status === 'PENDING').length).toBeGreaterThan(0);
      services.get(victim)!.kill();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await start(victim);
      const orders = await allTerminal(ids, TERMINAL_AFTER_RESTART_MS);
      for (const o of orders) {
        if (o.status === 'CANCELLED') {
          expect(['INSUFFICIENT_FUNDS', 'TIMEOUT']).toContain(o.reason);
        }
      }
      // The customers who can pay complete unless their flow ran out of time during the crash.
      expect(orders.some((o) => o.status === 'COMPLETED')).toBe(true);
    },
    TERMINAL_AFTER_RESTART_MS + 60_000,
  );

  it("holds CONTRACT.md's invariants afterwards", async () => {
    const orders = await allTerminal(placed, 10_000);
    expect(await preparedTransactionsOf(placed)).toEqual([]);
    const completed = orders.filter((o) => o.status === 'COMPLETED');
    for (const o of completed) {
      expect(o.totalCents).toBe(
        o.items.reduce((sum, i) => sum + i.quantity * (i.unitPriceCents as number), 0),
      );
    }
    const product = (
      await call<{ available: number; reserved: number; sold: number }>(
        'inventory',
        'GET',
        `/products/${sku}`,
      )
    ).body;
    expect(product.available + product.reserved + product.sold).toBe(STOCK);
    expect(product.reserved).toBe(0);
    expect(product.sold).toBe(
      completed.flatMap((o) => o.items).reduce((sum, i) => sum + i.quantity, 0),
    );
    for (const c of customers) {
      const a = (
        await call<{ availableCents: number; frozenCents: number; spentCents: number }>(
          'payment',
          'GET',
          `/accounts/${c.customerId}`,
        )
      ).body;
      expect(a.availableCents + a.frozenCents + a.spentCents).toBe(c.balanceCents);
      expect(a.frozenCents).toBe(0);
      expect(a.spentCents).toBe(
        completed
          .filter((o) => o.customerId === c.customerId)
          .reduce((sum, o) => sum + (o.totalCents as number), 0),
      );
    }
  });
});
