// Two-phase commit killed at each point between the phases, on the three built services and the
// real Kafka and Postgres: the coordinator after it recorded its decision and before the acks,
// a participant after it voted yes (both decisions), and Postgres itself while a transaction is
// prepared. Each ends with the decision applied and no prepared transaction left.
//
// The points are reached deterministically by pausing processes (SIGSTOP) rather than by racing
// a kill against the flow: payment paused keeps the order between inventory's yes vote and its
// own; inventory paused keeps a prepared transaction waiting for a decision already recorded.
// Postgres is crashed and restarted (pg_ctlcluster stop -m immediate): run under the test lock.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sharedPostgres } from '../support/infra.js';
import { runSuffix } from '../support/kafka.js';
import { preparedTransactionsOf } from '../support/prepared-transactions.js';
import {
  startService,
  testPort,
  type RunningService,
  type ServiceName,
} from '../support/services.js';
import { asCustomer } from '../support/tokens.js';

const RUN = runSuffix();
const PORTS: Record<ServiceName, string> = {
  order: testPort(60),
  payment: testPort(61),
  inventory: testPort(62),
};
const PORT_VARIABLE: Record<ServiceName, string> = {
  order: 'ORDER_PORT',
  payment: 'PAYMENT_PORT',
  inventory: 'INVENTORY_PORT',
};
// Long enough that no vote runs out of time while a process is paused on purpose.
const ENV: Record<ServiceName, Record<string, string>> = {
  order: { ORDER_FLOW_TIMEOUT_MS: '30000', ORDER_STEP_TIMEOUT_MS: '3000' },
  payment: {},
  inventory: {},
};
const TERMINAL_AFTER_RESTART_MS = 60_000;
const PRICE_CENTS = 700;
const QUANTITY = 3;
const TOTAL_CENTS = PRICE_CENTS * QUANTITY;
const STOCK = 20;

interface Order {
  id: string;
  customerId: string;
  status: 'PENDING' | 'COMPLETED' | 'CANCELLED';
  reason: string | null;
  totalCents: number | null;
  history: { step: string; outcome: string }[];
}

describe('two-phase commit killed between the phases', () => {
  const services = new Map<ServiceName, RunningService>();
  const start = (name: ServiceName) => {
    const service = startService(name, { [PORT_VARIABLE[name]]: PORTS[name], ...ENV[name] });
    services.set(name, service);
    return service.waitForHealth(200);
  };
  const service = (name: ServiceName) => services.get(name)!;
  const pause = (name: ServiceName) => service(name).process.kill('SIGSTOP');
  const resume = (name: ServiceName) => service(name).process.kill('SIGCONT');

  beforeAll(async () => {
    await Promise.all((['order', 'payment', 'inventory'] as const).map(start));
  }, 120_000);

  afterAll(async () => {
    for (const s of services.values()) if (s.process.exitCode === null) s.process.kill('SIGCONT');
    await Promise.all([...services.values()].map((s) => s.stop()));
  });

  const waitFor = async <T>(what: string, probe: () => Promise<T | null>, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await probe();
      if (found !== null) return found;
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const read = async (id: string) =>
    (await service('order').request<Order>('GET', `/orders/${id}`)).body;
  const steps = (o: Order) => o.history.map((h) => `${h.step}:${h.outcome}`);
  const reached = (id: string, step: string) =>
    waitFor(
      step,
      async () =>
        ((await read(id)).history ?? []).some((h) => `${h.step}:${h.outcome}` === step) || null,
    );
  const terminal = (id: string) =>
    waitFor(
      `order ${id} terminal`,
      async () => {
        const o = await read(id).catch(() => null);
        return o && o.status !== 'PENDING' ? o : null;
      },
      TERMINAL_AFTER_RESTART_MS,
    );

  /** A product and an account of the test's own; `balanceCents` below the total votes no. */
  const setUp = async (name: string, balanceCents: number) => {
    const sku = `tpc-${RUN}-${name}`;
    const customerId = `tpc-${RUN}-${name}`;
    const product = { sku, name, priceCents: PRICE_CENTS, stock: STOCK };
    expect((await service('inventory').request('POST', '/products', product)).status).toBe(201);
    const account = { customerId, balanceCents };
    expect((await service('payment').request('POST', '/accounts', account)).status).toBe(201);
    return { sku, customerId, balanceCents };
  };
  const place = async (sku: string, customerId: string) => {
    const { status, body } = await service('order').request<Order>(
      'POST',
      '/orders',
      { customerId, items: [{ sku, quantity: QUANTITY }], strategy: '2pc' },
      asCustomer(customerId),
    );
    expect(status).toBe(202);
    return body.id;
  };
  /** Stock and money as CONTRACT.md's invariants want them after `completed` or not. */
  const expectSettled = async (
    setup: { sku: string; customerId: string; balanceCents: number },
    completed: boolean,
  ) => {
    const sold = completed ? QUANTITY : 0;
    const spent = completed ? TOTAL_CENTS : 0;
    expect(
      (await service('inventory').request('GET', `/products/${setup.sku}`)).body,
    ).toMatchObject({ available: STOCK - sold, reserved: 0, sold });
    expect(
      (await service('payment').request('GET', `/accounts/${setup.customerId}`)).body,
    ).toMatchObject({
      availableCents: setup.balanceCents - spent,
      frozenCents: 0,
      spentCents: spent,
    });
  };

  it('the coordinator killed after recording COMMIT, before the acks: its restart completes the order', async () => {
    const setup = await setUp('coordinator', 100_000);
    pause('payment');
    let id: string;
    try {
      id = await place(setup.sku, setup.customerId);
      await reached(id, 'inventory.prepare:SUCCESS');
      // Inventory voted yes and holds its prepared transaction; it will not see the decision.
      pause('inventory');
    } finally {
      resume('payment');
    }
    try {
      // Payment's yes vote: the compare-and-set that records it also records the decision.
      await reached(id, 'payment.prepare:SUCCESS');
      expect(await preparedTransactionsOf([id])).toHaveLength(1);
      service('order').kill();
    } finally {
      resume('inventory');
    }
    // The decision went out before the kill: inventory commits while no coordinator runs.
    await waitFor('inventory to commit', async () =>
      (await preparedTransactionsOf([id])).length === 0 ? true : null,
    );
    expect(await preparedTransactionsOf([id])).toEqual([]);
    await start('order');
    const done = await terminal(id);
    expect(done).toMatchObject({ status: 'COMPLETED', reason: null, totalCents: TOTAL_CENTS });
    expect(steps(done).slice(2).sort()).toEqual([
      'inventory.commit:SUCCESS',
      'payment.commit:SUCCESS',
    ]);
    await expectSettled(setup, true);
  }, 180_000);

  it.each([
    ['COMPLETED', 100_000],
    ['CANCELLED', TOTAL_CENTS - 1],
  ] as const)(
    'a participant killed after voting yes keeps its prepared transaction; its restart applies the decision (%s)',
    async (expected, balanceCents) => {
      const setup = await setUp(`participant-${expected}`, balanceCents);
      pause('payment');
      let id: string;
      try {
        id = await place(setup.sku, setup.customerId);
        await reached(id, 'inventory.prepare:SUCCESS');
        service('inventory').kill();
        // Prepared in Postgres, not in the process: it outlives it, in doubt.
        expect(await preparedTransactionsOf([id])).toHaveLength(1);
      } finally {
        resume('payment');
      }
      const decision = expected === 'COMPLETED' ? 'commit' : 'rollback';
      await reached(id, `payment.${decision}:SUCCESS`);
      // Terminal only once every prepared participant acknowledged: inventory has not.
      expect((await read(id)).status).toBe('PENDING');
      expect(await preparedTransactionsOf([id])).toHaveLength(1);
      await start('inventory');
      const done = await terminal(id);
      expect(done.status).toBe(expected);
      if (expected === 'CANCELLED') expect(done.reason).toBe('INSUFFICIENT_FUNDS');
      expect(steps(done)).toContain(`inventory.${decision}:SUCCESS`);
      expect(await preparedTransactionsOf([id])).toEqual([]);
      await expectSettled(setup, expected === 'COMPLETED');
    },
    180_000,
  );

  it('Postgres crashed and restarted while a transaction is prepared: it survives, and commits after', async () => {
    const setup = await setUp('postgres', 100_000);
    pause('payment');
    let id: string;
    let before: string[];
    try {
      id = await place(setup.sku, setup.customerId);
      await reached(id, 'inventory.prepare:SUCCESS');
      before = await preparedTransactionsOf([id]);
      expect(before).toHaveLength(1);
      try {
        sharedPostgres.crash();
      } finally {
        sharedPostgres.start();
      }
      // Written to disk at PREPARE TRANSACTION, so WAL recovery brings it back, still in doubt.
      expect(await preparedTransactionsOf([id])).toEqual(before);
    } finally {
      resume('payment');
    }
    await Promise.all([...services.values()].map((s) => s.waitForHealth(200)));
    const done = await terminal(id);
    expect(done).toMatchObject({ status: 'COMPLETED', totalCents: TOTAL_CENTS });
    expect(await preparedTransactionsOf([id])).toEqual([]);
    await expectSettled(setup, true);
  }, 180_000);

  it('answered no 5xx, and every service still runs', () => {
    for (const s of services.values()) expect(s.process.exitCode).toBeNull();
    expect(service('order').output.join('')).not.toMatch(/Internal server error|HttpErrorFilter/);
  });
});
