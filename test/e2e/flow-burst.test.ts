// A burst against the three built services: 200 concurrent orders from 40 customers on one
// product with 50 units, a quarter of the customers too poor to pay: saga and TCC mixed, then
// all two-phase commit (each prepared order holds the product's row locked until its decision,
// so 2PC's orders queue on it). Every order must be terminal within CONTRACT.md's 30 s, the
// invariants must hold afterwards, and no prepared transaction may be left.
// It prints how long the burst took to become terminal and p50/p99 of createdAt → updatedAt.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runSuffix } from '../support/kafka.js';
import { preparedTransactionsOf } from '../support/prepared-transactions.js';
import { startService, testPort, type RunningService } from '../support/services.js';
import { asCustomer, type Caller } from '../support/tokens.js';

const RUN = runSuffix();
const PORTS = { order: testPort(30), payment: testPort(31), inventory: testPort(32) };
const ORDERS = 200;
const CUSTOMERS = 40;
const POOR_CUSTOMERS = CUSTOMERS / 4;
const STOCK = 50;
const PRICE_CENTS = 1_000;
const RICH_BALANCE_CENTS = 1_000_000;
const POOR_BALANCE_CENTS = PRICE_CENTS - 1;
const TERMINAL_WITHIN_MS = 30_000;

type Strategy = 'saga' | 'tcc' | '2pc';

/** Each burst's mix: which strategy the i-th order uses. */
const MIXES: [string, (i: number) => Strategy][] = [
  ['saga and tcc', (i) => (i % 2 === 0 ? 'saga' : 'tcc')],
  ['2pc', () => '2pc'],
];

interface Order {
  id: string;
  customerId: string;
  strategy: Strategy;
  status: 'PENDING' | 'COMPLETED' | 'CANCELLED';
  reason: string | null;
  items: { sku: string; quantity: number; unitPriceCents: number | null }[];
  totalCents: number | null;
  createdAt: string;
  updatedAt: string;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

describe('a burst of 200 concurrent orders on one product of 50 units', () => {
  let services: RunningService[];
  let order: RunningService;
  let payment: RunningService;
  let inventory: RunningService;

  beforeAll(async () => {
    order = startService('order', { ORDER_PORT: PORTS.order });
    payment = startService('payment', { PAYMENT_PORT: PORTS.payment });
    inventory = startService('inventory', { INVENTORY_PORT: PORTS.inventory });
    services = [order, payment, inventory];
    await Promise.all(services.map((s) => s.waitForHealth(200)));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s?.stop()));
  });

  const call = <T>(
    service: RunningService,
    method: string,
    path: string,
    body?: unknown,
    as?: Caller,
  ) => service.request<T>(method, path, body, as);

  it.each(MIXES)(
    'ends every order (%s) within 30 s with the invariants intact',
    async (mix, strategyOf) => {
      const label = mix.replace(/\W+/g, '-');
      const sku = `burst-${RUN}-${label}`;
      expect(
        (
          await call(inventory, 'POST', '/products', {
            sku,
            name: 'burst',
            priceCents: PRICE_CENTS,
            stock: STOCK,
          })
        ).status,
      ).toBe(201);
      const customers = Array.from({ length: CUSTOMERS }, (_, i) => ({
        customerId: `burst-${RUN}-${label}-${i}`,
        balanceCents: i < POOR_CUSTOMERS ? POOR_BALANCE_CENTS : RICH_BALANCE_CENTS,
      }));
      for (const c of customers) {
        expect((await call(payment, 'POST', '/accounts', c)).status).toBe(201);
      }

      const started = Date.now();
      const answers = await Promise.all(
        Array.from({ length: ORDERS }, (_, i) =>
          call<Order>(
            order,
            'POST',
            '/orders',
            {
              customerId: customers[i % CUSTOMERS].customerId,
              items: [{ sku, quantity: 1 }],
              strategy: strategyOf(i),
            },
            asCustomer(customers[i % CUSTOMERS].customerId),
          ),
        ),
      );
      const accepted = Date.now() - started;
      expect(answers.map((a) => a.status)).toEqual(Array(ORDERS).fill(202));

      // Poll the customers' lists (40 scatter-gathers) until no order is PENDING. Once a second:
      // polling is load on the service under test too. The figures come from the orders' own
      // createdAt/updatedAt, not from when the poll noticed.
      let orders: Order[];
      for (;;) {
        const lists = await Promise.all(
          customers.map((c) =>
            call<{ items: Order[] }>(order, 'GET', `/orders?customerId=${c.customerId}&limit=100`),
          ),
        );
        orders = lists.flatMap((l) => l.body.items);
        if (orders.length === ORDERS && orders.every((o) => o.status !== 'PENDING')) break;
        if (Date.now() - started > TERMINAL_WITHIN_MS + 10_000) break;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      const observedTerminalMs = Date.now() - started;

      expect(orders).toHaveLength(ORDERS);
      const pending = orders.filter((o) => o.status === 'PENDING');
      expect(pending).toEqual([]);
      const latencies = orders
        .map((o) => Date.parse(o.updatedAt) - Date.parse(o.createdAt))
        .sort((a, b) => a - b);
      const firstCreated = Math.min(...orders.map((o) => Date.parse(o.createdAt)));
      const lastUpdated = Math.max(...orders.map((o) => Date.parse(o.updatedAt)));
      const completed = orders.filter((o) => o.status === 'COMPLETED');
      const reasons: Record<string, number> = {};
      for (const o of orders) if (o.reason) reasons[o.reason] = (reasons[o.reason] ?? 0) + 1;
      const figures = {
        mix,
        orders: ORDERS,
        acceptedAllMs: accepted,
        terminalAllMs: lastUpdated - firstCreated,
        observedTerminalMs,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        maxMs: latencies.at(-1),
        completed: completed.length,
        cancelled: reasons,
      };
      process.stdout.write(`burst figures: ${JSON.stringify(figures)}\n`);

      // Every order terminal within 30 s of its creation (without faults).
      expect(latencies.at(-1)).toBeLessThan(TERMINAL_WITHIN_MS);
      // The poor cannot complete; the stock bounds what can.
      const poor = new Set(customers.slice(0, POOR_CUSTOMERS).map((c) => c.customerId));
      expect(completed.filter((o) => poor.has(o.customerId))).toEqual([]);
      expect(completed.length).toBeLessThanOrEqual(STOCK);
      expect(completed.length).toBeGreaterThan(0);
      for (const o of orders) {
        if (o.status === 'CANCELLED') {
          // TIMEOUT is legitimate too (a flow still waiting at its deadline on a loaded machine);
          // its count is in the printed figures. Whatever the reason, the invariants below hold.
          expect(['OUT_OF_STOCK', 'INSUFFICIENT_FUNDS', 'TIMEOUT']).toContain(o.reason);
        } else {
          expect(o.reason).toBeNull();
          expect(o.items).toEqual([{ sku, quantity: 1, unitPriceCents: PRICE_CENTS }]);
          expect(o.totalCents).toBe(PRICE_CENTS);
        }
      }

      // CONTRACT.md's invariants.
      const product = (
        await call<{ available: number; reserved: number; sold: number }>(
          inventory,
          'GET',
          `/products/${sku}`,
        )
      ).body;
      expect(product.available + product.reserved + product.sold).toBe(STOCK);
      expect(product.reserved).toBe(0);
      expect(product.sold).toBe(completed.length);
      expect(product.available).toBeGreaterThanOrEqual(0);
      for (const c of customers) {
        const a = (
          await call<{ availableCents: number; frozenCents: number; spentCents: number }>(
            payment,
            'GET',
            `/accounts/${c.customerId}`,
          )
        ).body;
        const spent = completed
          .filter((o) => o.customerId === c.customerId)
          .reduce((sum, o) => sum + (o.totalCents as number), 0);
        expect(a.availableCents + a.frozenCents + a.spentCents).toBe(c.balanceCents);
        expect(a.frozenCents).toBe(0);
        expect(a.spentCents).toBe(spent);
        expect(a.availableCents).toBeGreaterThanOrEqual(0);
      }
      expect(await preparedTransactionsOf(orders.map((o) => o.id))).toEqual([]);
    },
    90_000,
  );
});
