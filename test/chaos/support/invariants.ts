import pg from 'pg';
import { authorization, OPERATOR } from '../../support/tokens.js';
import { chaosDatabaseUrl } from './chaos-servers.js';
import type { Fleet } from './fleet.js';
import type { Customer, OrderIntent, Product } from './workload.js';

interface OrderView {
  id: string;
  customerId: string;
  strategy: string;
  status: 'PENDING' | 'COMPLETED' | 'CANCELLED';
  reason: string | null;
  items: { sku: string; quantity: number; unitPriceCents: number | null }[];
  totalCents: number | null;
  history: { step: string; outcome: string }[];
}

/** What may cancel an order in this run: every product and customer exists before any order. */
const EXPECTED_REASONS = new Set(['OUT_OF_STOCK', 'INSUFFICIENT_FUNDS', 'TIMEOUT']);
const ORDER_SHARDS = ['orders_0', 'orders_1', 'orders_2'];

async function query<T>(database: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: chaosDatabaseUrl(database) });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Status of every order row in every shard (read from the databases: cheap to poll). */
export async function orderStatuses(): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  for (const shard of ORDER_SHARDS) {
    const rows = await query<{ id: string; status: string }>(
      shard,
      'SELECT id::text AS id, status FROM orders',
    );
    for (const row of rows) statuses.set(row.id, row.status);
  }
  return statuses;
}

/** Waits until every accepted order is terminal, or the deadline; returns the ids still PENDING. */
export async function waitUntilTerminal(ids: string[], deadline: number): Promise<string[]> {
  for (;;) {
    let pending: string[];
    try {
      const statuses = await orderStatuses();
      pending = ids.filter(
        (id) => statuses.get(id) !== 'COMPLETED' && statuses.get(id) !== 'CANCELLED',
      );
    } catch {
      pending = ids; // a database still recovering: ask again
    }
    if (pending.length === 0 || Date.now() > deadline) return pending;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    headers: await authorization(OPERATOR),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function mapLimited<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]);
      }
    }),
  );
  return results;
}

export interface Verdict {
  violations: string[];
  orders: OrderView[];
}

/**
 * CONTRACT.md's invariants, checked once every order is terminal, through the API (what a user
 * sees) and in the participants' per-order records (what the API could hide: a reservation
 * confirmed for a cancelled order, a payment captured twice).
 */
export async function checkInvariants(
  fleet: Fleet,
  intents: OrderIntent[],
  products: Product[],
  customers: Customer[],
): Promise<Verdict> {
  const violations: string[] = [];
  const violate = (text: string) => violations.push(text);

  for (const intent of intents) {
    if (intent.refused) violate(`order ${intent.key} refused: ${intent.refused}`);
    else if (!intent.orderId)
      violate(`order ${intent.key} never answered after ${intent.attempts} attempts`);
  }
  const accepted = intents.filter((i) => i.orderId !== undefined);
  const ids = new Set<string>();
  for (const intent of accepted) {
    if (ids.has(intent.orderId!))
      violate(`two idempotency keys got the same order ${intent.orderId}`);
    ids.add(intent.orderId!);
  }

  // Every accepted order, through the API: it exists, is terminal, matches what was asked.
  const orders: OrderView[] = [];
  await mapLimited(accepted, 8, async (intent) => {
    const { status, body } = await getJson<OrderView>(
      `${fleet.url('order')}/orders/${intent.orderId}`,
    );
    if (status !== 200)
      return violate(`order ${intent.orderId} (${intent.key}): GET answered ${status}`);
    orders.push(body);
    if (
      body.customerId !== intent.request.customerId ||
      body.strategy !== intent.request.strategy
    ) {
      violate(`order ${body.id} is not what key ${intent.key} asked for`);
    }
    checkOrder(body, products, violate);
  });

  // Nothing in the databases the API never acknowledged, nothing twice.
  const rows = new Map<string, string>();
  for (const shard of ORDER_SHARDS) {
    for (const row of await query<{ id: string; status: string }>(
      shard,
      'SELECT id::text AS id, status FROM orders',
    )) {
      if (rows.has(row.id)) violate(`order ${row.id} is stored in two shards`);
      rows.set(row.id, row.status);
    }
  }
  for (const [id, status] of rows) {
    if (!ids.has(id)) violate(`order ${id} (${status}) is stored but no client was given it`);
  }

  const completed = orders.filter((o) => o.status === 'COMPLETED');
  checkProducts: for (const product of products) {
    const { status, body: p } = await getJson<{
      available: number;
      reserved: number;
      sold: number;
    }>(`${fleet.url('inventory')}/products/${product.sku}`);
    if (status !== 200) {
      violate(`product ${product.sku}: GET answered ${status}`);
      continue checkProducts;
    }
    const sold = sum(
      completed.flatMap((o) => o.items.filter((i) => i.sku === product.sku).map((i) => i.quantity)),
    );
    if (p.available + p.reserved + p.sold !== product.stock)
      violate(
        `product ${product.sku}: available ${p.available} + reserved ${p.reserved} + sold ${p.sold} ≠ stock ${product.stock}`,
      );
    if (p.reserved !== 0) violate(`product ${product.sku}: ${p.reserved} units still reserved`);
    if (p.sold !== sold)
      violate(`product ${product.sku}: sold ${p.sold}, completed orders bought ${sold}`);
    if (p.available < 0 || p.reserved < 0 || p.sold < 0)
      violate(`product ${product.sku}: a negative figure ${JSON.stringify(p)}`);
  }

  // Two-phase commit: an order is terminal only once every prepared participant acknowledged
  // the decision, so with every order terminal no prepared transaction may be left. The view is
  // cluster-wide, and this cluster is the run's own.
  for (const { gid } of await query<{ gid: string }>(
    'inventory',
    'SELECT gid FROM pg_prepared_xacts',
  )) {
    violate(`prepared transaction ${gid} left behind with every order terminal`);
  }

  for (const customer of customers) {
    const { status, body: a } = await getJson<{
      availableCents: number;
      frozenCents: number;
      spentCents: number;
    }>(`${fleet.url('payment')}/accounts/${customer.customerId}`);
    if (status !== 200) {
      violate(`account ${customer.customerId}: GET answered ${status}`);
      continue;
    }
    const spent = sum(
      completed.filter((o) => o.customerId === customer.customerId).map((o) => o.totalCents ?? 0),
    );
    if (a.availableCents + a.frozenCents + a.spentCents !== customer.balanceCents)
      violate(
        `account ${customer.customerId}: available ${a.availableCents} + frozen ${a.frozenCents} + spent ${a.spentCents} ≠ balance ${customer.balanceCents}`,
      );
    if (a.frozenCents !== 0)
      violate(`account ${customer.customerId}: ${a.frozenCents} cents still frozen`);
    if (a.spentCents !== spent)
      violate(
        `account ${customer.customerId}: spent ${a.spentCents}, completed orders cost ${spent}`,
      );
    if (a.availableCents < 0 || a.frozenCents < 0 || a.spentCents < 0)
      violate(`account ${customer.customerId}: a negative figure ${JSON.stringify(a)}`);
  }

  await checkParticipantRecords(orders, violate);
  return { violations, orders };
}

/** One order on its own: terminal, priced right, a history with one outcome per step. */
function checkOrder(order: OrderView, products: Product[], violate: (text: string) => void): void {
  if (order.status === 'PENDING') return violate(`order ${order.id} is still PENDING`);
  if (order.status === 'CANCELLED' && !EXPECTED_REASONS.has(order.reason ?? ''))
    violate(`order ${order.id} cancelled with reason ${order.reason}`);
  if (order.status === 'COMPLETED') {
    const total = sum(order.items.map((i) => i.quantity * (i.unitPriceCents ?? Number.NaN)));
    if (order.totalCents !== total)
      violate(`order ${order.id}: totalCents ${order.totalCents} ≠ Σ quantity × price ${total}`);
    for (const item of order.items) {
      const price = products.find((p) => p.sku === item.sku)?.priceCents;
      if (item.unitPriceCents !== price)
        violate(`order ${order.id}: ${item.sku} at ${item.unitPriceCents}, priced ${price}`);
    }
  }
  const successes = new Map<string, number>();
  for (const entry of order.history) {
    if (entry.outcome === 'SUCCESS')
      successes.set(entry.step, (successes.get(entry.step) ?? 0) + 1);
  }
  for (const [step, count] of successes) {
    if (count > 1) violate(`order ${order.id}: step ${step} succeeded ${count} times`);
  }
  // The saga's confirmStock, TCC's confirms and 2PC's commits; compensations, cancels, rollbacks.
  const confirmed = [...successes.keys()].some(
    (step) => step === 'confirmStock' || step.endsWith('.confirm') || step.endsWith('.commit'),
  );
  const undone = [...successes.keys()].some(
    (step) =>
      step.endsWith('.compensation') || step.endsWith('.cancel') || step.endsWith('.rollback'),
  );
  if (order.status === 'COMPLETED' && (!confirmed || undone))
    violate(
      `order ${order.id} COMPLETED with history ${JSON.stringify(order.history.map((h) => `${h.step}:${h.outcome}`))}`,
    );
  if (order.status === 'CANCELLED' && confirmed)
    violate(
      `order ${order.id} CANCELLED after a confirmation: ${JSON.stringify(order.history.map((h) => `${h.step}:${h.outcome}`))}`,
    );
}

/**
 * The participants' rows per order: a COMPLETED order has every line SOLD and its money
 * CAPTURED or CHARGED, exactly its total; a CANCELLED one has nothing sold or kept; nothing is
 * left RESERVED or FROZEN. The rows move once (compare-and-set), so this is also "not twice".
 */
async function checkParticipantRecords(
  orders: OrderView[],
  violate: (text: string) => void,
): Promise<void> {
  const reservations = await query<{
    order_id: string;
    sku: string;
    quantity: number;
    status: string;
  }>('inventory', 'SELECT order_id::text, sku, quantity, status FROM reservations');
  const movements = await query<{ order_id: string; amount_cents: string; state: string }>(
    'payment',
    'SELECT order_id::text, amount_cents::text, state FROM payment_movements',
  );
  const byId = new Map(orders.map((o) => [o.id, o]));
  for (const r of reservations) {
    const order = byId.get(r.order_id);
    if (r.status === 'RESERVED') violate(`reservation ${r.order_id}/${r.sku} left RESERVED`);
    if (!order)
      violate(`reservation ${r.order_id}/${r.sku} (${r.status}) for an order no client was given`);
    else if (r.status === 'SOLD' && order.status !== 'COMPLETED')
      violate(`reservation ${r.order_id}/${r.sku} SOLD for a ${order.status} order`);
  }
  for (const m of movements) {
    const order = byId.get(m.order_id);
    if (m.state === 'FROZEN') violate(`payment of order ${m.order_id} left FROZEN`);
    const kept = m.state === 'CAPTURED' || m.state === 'CHARGED';
    if (!order) violate(`payment ${m.order_id} (${m.state}) for an order no client was given`);
    else if (kept && order.status !== 'COMPLETED')
      violate(`payment of ${order.status} order ${m.order_id} is ${m.state}`);
    else if (kept && Number(m.amount_cents) !== order.totalCents)
      violate(`order ${m.order_id}: ${m.state} ${m.amount_cents} cents, total ${order.totalCents}`);
  }
  for (const order of orders.filter((o) => o.status === 'COMPLETED')) {
    for (const item of order.items) {
      const row = reservations.find((r) => r.order_id === order.id && r.sku === item.sku);
      if (row?.status !== 'SOLD' || row.quantity !== item.quantity)
        violate(
          `COMPLETED order ${order.id}: ${item.sku} reservation is ${JSON.stringify(row ?? null)}`,
        );
    }
    const movement = movements.find((m) => m.order_id === order.id);
    if (!movement || (movement.state !== 'CAPTURED' && movement.state !== 'CHARGED'))
      violate(`COMPLETED order ${order.id}: payment is ${JSON.stringify(movement ?? null)}`);
  }
}

const sum = (values: number[]) => values.reduce((total, v) => total + v, 0);
