// The three built services together, against the real Kafka, Postgres and Redis: orders carried
// by the saga, by TCC and by two-phase commit to COMPLETED, or to CANCELLED with each reason of CONTRACT.md
// (OUT_OF_STOCK, INSUFFICIENT_FUNDS, UNKNOWN_PRODUCT, UNKNOWN_CUSTOMER, TIMEOUT), with the
// product and account figures checked after each, and the contract's invariants at the end.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runSuffix } from '../support/kafka.js';
import { preparedTransactionsOf } from '../support/prepared-transactions.js';
import { startService, testPort, type RunningService } from '../support/services.js';
import { asCustomer, type Caller } from '../support/tokens.js';

const RUN = runSuffix();
// Own ports, so that other suites' services on the default test ports do not collide.
const PORTS = { order: testPort(20), payment: testPort(21), inventory: testPort(22) };
// Short enough to test TIMEOUT quickly, long enough for an unloaded round trip many times over.
const FLOW_TIMEOUT_MS = 8_000;
const ORDER_ENV = {
  ORDER_PORT: PORTS.order,
  ORDER_FLOW_TIMEOUT_MS: String(FLOW_TIMEOUT_MS),
  ORDER_STEP_TIMEOUT_MS: '3000',
};
const STRATEGIES = ['saga', 'tcc', '2pc'] as const;
type Strategy = (typeof STRATEGIES)[number];

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
  history: { step: string; outcome: string; reason: string | null; at: string }[];
}

interface Product {
  sku: string;
  priceCents: number;
  available: number;
  reserved: number;
  sold: number;
}

interface Account {
  customerId: string;
  availableCents: number;
  frozenCents: number;
  spentCents: number;
}

describe('the order flow across the three services', () => {
  let order: RunningService;
  let payment: RunningService;
  let inventory: RunningService;
  /** Every product and account created here, with what was put in: the invariants' inputs. */
  const stockCreated = new Map<string, number>();
  const balanceCreated = new Map<string, number>();
  const placed: string[] = [];

  beforeAll(async () => {
    order = startService('order', ORDER_ENV);
    payment = startService('payment', { PAYMENT_PORT: PORTS.payment });
    inventory = startService('inventory', { INVENTORY_PORT: PORTS.inventory });
    await Promise.all([order, payment, inventory].map((s) => s.waitForHealth(200)));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([order, payment, inventory].map((s) => s?.stop()));
  });

  const call = async <T>(
    service: RunningService,
    method: string,
    path: string,
    body?: unknown,
    as?: Caller,
  ) => {
    const response = await service.request<T>(method, path, body, as);
    if (response.status >= 500) {
      throw new Error(`${method} ${path}: ${JSON.stringify(response.body)}`);
    }
    return response;
  };

  const createProduct = async (name: string, priceCents: number, stock: number) => {
    const sku = `flow-${RUN}-${name}`;
    const { status } = await call(inventory, 'POST', '/products', {
      sku,
      name,
      priceCents,
      stock,
    });
    expect(status).toBe(201);
    stockCreated.set(sku, stock);
    return sku;
  };

  const createAccount = async (name: string, balanceCents: number) => {
    const customerId = `flow-${RUN}-${name}`;
    const { status } = await call(payment, 'POST', '/accounts', { customerId, balanceCents });
    expect(status).toBe(201);
    balanceCreated.set(customerId, balanceCents);
    return customerId;
  };

  const product = async (sku: string) =>
    (await call<Product>(inventory, 'GET', `/products/${sku}`)).body;
  const account = async (customerId: string) =>
    (await call<Account>(payment, 'GET', `/accounts/${customerId}`)).body;

  const place = async (
    strategy: Strategy,
    customerId: string,
    items: { sku: string; quantity: number }[],
  ) => {
    // Each order is placed by its customer, as a shop's front end would on its behalf.
    const { status, body } = await call<Order>(
      order,
      'POST',
      '/orders',
      { customerId, items, strategy },
      asCustomer(customerId),
    );
    expect(status).toBe(202);
    expect(body.status).toBe('PENDING');
    placed.push(body.id);
    return body;
  };

  const terminal = async (id: string, timeoutMs = 30_000): Promise<Order> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await call<Order>(order, 'GET', `/orders/${id}`);
      if (body.status !== 'PENDING') return body;
      if (Date.now() > deadline)
        throw new Error(`Order ${id} still PENDING: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const steps = (o: Order) => o.history.map((h) => `${h.step}:${h.outcome}`);
  /** A TCC branch's or a 2PC participant's op: try/confirm/cancel or prepare/commit/rollback. */
  const OPS = {
    tcc: { try: 'try', confirm: 'confirm', cancel: 'cancel' },
    '2pc': { try: 'prepare', confirm: 'commit', cancel: 'rollback' },
  } as const;

  describe.each(STRATEGIES)('%s', (strategy) => {
    it('completes an order: prices from inventory, total charged, stock sold', async () => {
      const coffee = await createProduct(`${strategy}-coffee`, 1250, 100);
      const filter = await createProduct(`${strategy}-filter`, 399, 10);
      const customer = await createAccount(`${strategy}-rich`, 100_000);

      const placedOrder = await place(strategy, customer, [
        { sku: coffee, quantity: 2 },
        { sku: filter, quantity: 3 },
      ]);
      const done = await terminal(placedOrder.id);

      expect(done).toMatchObject({
        id: placedOrder.id,
        customerId: customer,
        strategy,
        status: 'COMPLETED',
        reason: null,
        items: [
          { sku: coffee, quantity: 2, unitPriceCents: 1250 },
          { sku: filter, quantity: 3, unitPriceCents: 399 },
        ],
        totalCents: 2 * 1250 + 3 * 399,
        createdAt: placedOrder.createdAt,
      });
      expect(Date.parse(done.updatedAt)).toBeGreaterThanOrEqual(Date.parse(done.createdAt));
      if (strategy === 'saga') {
        expect(steps(done)).toEqual([
          'reserveStock:SUCCESS',
          'takePayment:SUCCESS',
          'confirmStock:SUCCESS',
        ]);
      } else {
        const op = OPS[strategy];
        expect(steps(done).slice(0, 2)).toEqual([
          `inventory.${op.try}:SUCCESS`,
          `payment.${op.try}:SUCCESS`,
        ]);
        expect(steps(done).slice(2).sort()).toEqual([
          `inventory.${op.confirm}:SUCCESS`,
          `payment.${op.confirm}:SUCCESS`,
        ]);
      }

      expect(await product(coffee)).toMatchObject({ available: 98, reserved: 0, sold: 2 });
      expect(await product(filter)).toMatchObject({ available: 7, reserved: 0, sold: 3 });
      expect(await account(customer)).toEqual({
        customerId: customer,
        availableCents: 100_000 - 3697,
        frozenCents: 0,
        spentCents: 3697,
      });
    });

    it('cancels with OUT_OF_STOCK and reserves nothing, not even the lines in stock', async () => {
      const plenty = await createProduct(`${strategy}-plenty`, 100, 50);
      const scarce = await createProduct(`${strategy}-scarce`, 100, 2);
      const customer = await createAccount(`${strategy}-oos`, 100_000);

      const done = await terminal(
        (
          await place(strategy, customer, [
            { sku: plenty, quantity: 5 },
            { sku: scarce, quantity: 3 },
          ])
        ).id,
      );

      expect(done).toMatchObject({ status: 'CANCELLED', reason: 'OUT_OF_STOCK' });
      expect(steps(done)[0]).toBe(
        strategy === 'saga' ? 'reserveStock:FAILURE' : `inventory.${OPS[strategy].try}:FAILURE`,
      );
      // Payment was never asked.
      expect(steps(done).some((s) => s.startsWith('takePayment') || s.startsWith('payment.'))).toBe(
        false,
      );
      expect(await product(plenty)).toMatchObject({ available: 50, reserved: 0, sold: 0 });
      expect(await product(scarce)).toMatchObject({ available: 2, reserved: 0, sold: 0 });
      expect(await account(customer)).toMatchObject({
        availableCents: 100_000,
        frozenCents: 0,
        spentCents: 0,
      });
    });

    it('cancels with INSUFFICIENT_FUNDS and releases the reserved stock', async () => {
      const sku = await createProduct(`${strategy}-pricey`, 5_000, 10);
      const customer = await createAccount(`${strategy}-poor`, 4_999);

      const done = await terminal((await place(strategy, customer, [{ sku, quantity: 1 }])).id);

      expect(done).toMatchObject({ status: 'CANCELLED', reason: 'INSUFFICIENT_FUNDS' });
      if (strategy === 'saga') {
        expect(steps(done)).toEqual([
          'reserveStock:SUCCESS',
          'takePayment:FAILURE',
          'reserveStock.compensation:SUCCESS',
        ]);
      } else {
        // Every tried branch is cancelled (rolled back), the failed one too (a no-op), in
        // whichever order the replies arrive.
        const op = OPS[strategy];
        expect(steps(done).slice(0, 2)).toEqual([
          `inventory.${op.try}:SUCCESS`,
          `payment.${op.try}:FAILURE`,
        ]);
        expect(steps(done).slice(2).sort()).toEqual([
          `inventory.${op.cancel}:SUCCESS`,
          `payment.${op.cancel}:SUCCESS`,
        ]);
      }
      expect(done.history.find((h) => h.outcome === 'FAILURE')?.reason).toBe('INSUFFICIENT_FUNDS');
      expect(await product(sku)).toMatchObject({ available: 10, reserved: 0, sold: 0 });
      expect(await account(customer)).toMatchObject({
        availableCents: 4_999,
        frozenCents: 0,
        spentCents: 0,
      });
    });

    it('cancels with UNKNOWN_PRODUCT and touches no stock', async () => {
      const known = await createProduct(`${strategy}-known`, 100, 5);
      const customer = await createAccount(`${strategy}-up`, 100_000);

      const done = await terminal(
        (
          await place(strategy, customer, [
            { sku: known, quantity: 1 },
            { sku: `flow-${RUN}-${strategy}-never-created`, quantity: 1 },
          ])
        ).id,
      );

      expect(done).toMatchObject({ status: 'CANCELLED', reason: 'UNKNOWN_PRODUCT' });
      expect(await product(known)).toMatchObject({ available: 5, reserved: 0, sold: 0 });
      expect(await account(customer)).toMatchObject({ availableCents: 100_000, spentCents: 0 });
    });

    it('cancels with UNKNOWN_CUSTOMER and releases the reserved stock', async () => {
      const sku = await createProduct(`${strategy}-nocust`, 100, 5);

      const done = await terminal(
        (await place(strategy, `flow-${RUN}-${strategy}-no-account`, [{ sku, quantity: 2 }])).id,
      );

      expect(done).toMatchObject({ status: 'CANCELLED', reason: 'UNKNOWN_CUSTOMER' });
      expect(await product(sku)).toMatchObject({ available: 5, reserved: 0, sold: 0 });
    });
  });

  it("lists a customer's orders of every strategy newest first", async () => {
    const sku = await createProduct('list', 10, 100);
    const customer = await createAccount('list', 100_000);
    const ids: string[] = [];
    for (const strategy of ['saga', 'tcc', '2pc', 'saga', 'tcc', '2pc'] as const) {
      ids.push((await place(strategy, customer, [{ sku, quantity: 1 }])).id);
    }
    await Promise.all(ids.map((id) => terminal(id)));
    const { status, body } = await call<{ items: Order[] }>(
      order,
      'GET',
      `/orders?customerId=${customer}&limit=100`,
      undefined,
      asCustomer(customer),
    );
    expect(status).toBe(200);
    expect(body.items.map((o) => o.id)).toEqual([...ids].reverse());
    expect(body.items.map((o) => o.strategy)).toEqual(['2pc', 'tcc', 'saga', '2pc', 'tcc', 'saga']);
    expect(body.items.every((o) => o.status === 'COMPLETED' && o.totalCents === 10)).toBe(true);
    expect(body.items.every((o) => o.history.length >= 3)).toBe(true);
  });

  it('cancels with TIMEOUT, after compensation, orders whose payment step does not answer in time', async () => {
    const sku = await createProduct('timeout', 700, 20);
    const customer = await createAccount('timeout', 100_000);
    await payment.stop();
    try {
      const orders = await Promise.all(
        STRATEGIES.map((strategy) => place(strategy, customer, [{ sku, quantity: 4 }])),
      );
      // Past the deadline the flows compensate: inventory releases, payment's own undo (refund,
      // unfreeze) waits for payment to come back — its command may have run meanwhile.
      await new Promise((resolve) => setTimeout(resolve, FLOW_TIMEOUT_MS + 1_000));
      payment = startService('payment', { PAYMENT_PORT: PORTS.payment });
      await payment.waitForHealth(200);
      for (const placedOrder of orders) {
        const done = await terminal(placedOrder.id, 40_000);
        expect(done).toMatchObject({ status: 'CANCELLED', reason: 'TIMEOUT' });
        expect(done.history.some((h) => h.outcome === 'TIMEOUT')).toBe(true);
      }
    } finally {
      if (payment.process.exitCode !== null || payment.process.signalCode !== null) {
        payment = startService('payment', { PAYMENT_PORT: PORTS.payment });
        await payment.waitForHealth(200);
      }
    }
    expect(await product(sku)).toMatchObject({ available: 20, reserved: 0, sold: 0 });
    expect(await account(customer)).toMatchObject({
      availableCents: 100_000,
      frozenCents: 0,
      spentCents: 0,
    });
  }, 120_000);

  it("holds CONTRACT.md's invariants over every product, account and order of this run", async () => {
    const orders = await Promise.all(placed.map((id) => terminal(id)));
    // Every 2PC order is terminal only once each prepared participant acknowledged the decision.
    expect(await preparedTransactionsOf(placed)).toEqual([]);
    for (const o of orders) {
      expect(['COMPLETED', 'CANCELLED']).toContain(o.status);
      if (o.status === 'COMPLETED') {
        expect(o.reason).toBeNull();
        expect(o.totalCents).toBe(
          o.items.reduce((sum, i) => sum + i.quantity * (i.unitPriceCents as number), 0),
        );
      } else {
        expect([
          'OUT_OF_STOCK',
          'INSUFFICIENT_FUNDS',
          'UNKNOWN_PRODUCT',
          'UNKNOWN_CUSTOMER',
          'TIMEOUT',
        ]).toContain(o.reason);
      }
    }
    const completed = orders.filter((o) => o.status === 'COMPLETED');
    for (const [sku, stock] of stockCreated) {
      const p = await product(sku);
      const sold = completed
        .flatMap((o) => o.items)
        .filter((i) => i.sku === sku)
        .reduce((sum, i) => sum + i.quantity, 0);
      expect({
        sku,
        total: p.available + p.reserved + p.sold,
        reserved: p.reserved,
        sold: p.sold,
      }).toEqual({ sku, total: stock, reserved: 0, sold });
    }
    for (const [customerId, balance] of balanceCreated) {
      const a = await account(customerId);
      const spent = completed
        .filter((o) => o.customerId === customerId)
        .reduce((sum, o) => sum + (o.totalCents as number), 0);
      expect({
        customerId,
        total: a.availableCents + a.frozenCents + a.spentCents,
        frozen: a.frozenCents,
        spent: a.spentCents,
      }).toEqual({ customerId, total: balance, frozen: 0, spent });
    }
  });

  it('never answered a 5xx nor logged an unexpected error', () => {
    expect(order.output.join('')).not.toMatch(/Internal server error|HttpErrorFilter|PARKED/);
  });
});
