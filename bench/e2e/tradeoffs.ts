/**
 * The trade-offs of the project's strategies, beside throughput and latency (issue 16): what
 * each one holds on the hot product between its phases, and what that costs everyone else.
 *
 * 1. Hold and view. Orders placed one after another on one product while a prober, on its own
 *    connection to inventory's database, reads the product row the way two other transactions
 *    would: a plain reader (`SELECT reserved`: does it see the order's stock held?) and a
 *    locking one (`SELECT … FOR SHARE NOWAIT`: would it have to wait?). Locked time per order is
 *    the time between samples that found the row locked, over the orders. Saga and TCC hold the
 *    stock as visible business state (`reserved`) and lock the row only inside each local
 *    transaction; two-phase commit holds it in a prepared transaction: invisible to the plain
 *    reader, locked for the locking one until the decision is applied.
 * 2. Coordinator outage. One order, and once inventory holds its stock (reserved, or the order's
 *    prepared transaction in pg_prepared_xacts) the order service is killed (SIGKILL) for
 *    OUTAGE_MS, then started again. A restock of the same product, sent while the coordinator
 *    is down, shows who is blocked; the report gives how long the stock stayed held and when
 *    the order became terminal, from the kill.
 */
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { sleep } from './closed-loop.js';
import type { BenchDatabases } from './databases.js';
import { post } from './fixtures.js';
import type { BenchServices } from './services.js';
import type { CompletionTracker } from './system-driver.js';

export interface HoldRow {
  strategy: string;
  orders: number;
  /** Samples taken while an order was in flight. */
  samples: number;
  /** ms per order during which a locking reader of the product row would have waited. */
  lockedMsPerOrder: number;
  /** Share of in-flight samples where a plain reader saw stock held (reserved > 0). */
  heldVisibleShare: number;
  /** Share of in-flight samples where the row was locked. */
  lockedShare: number;
}

export interface OutageRow {
  strategy: string;
  outageMs: number;
  /** From the kill until inventory held nothing of the order any more (no reserve, no lock). */
  heldForMs: number | null;
  /** From the kill until the order was terminal. */
  terminalAfterMs: number | null;
  /** The restock sent during the outage: how long it took, and its HTTP status. */
  restockMs: number | null;
  restockStatus: number | null;
  /** Whether the product row was found locked while the coordinator was down. */
  lockedDuringOutage: boolean | null;
  attempts: number;
}

export interface TradeoffResult {
  hold: HoldRow[];
  outage: OutageRow[];
  /** Lines of each strategy's flow definition. */
  flowLines: Record<string, number>;
}

export interface TradeoffContext {
  urls: { order: string; payment: string; inventory: string };
  databases: BenchDatabases;
  tracker: CompletionTracker;
  services: BenchServices;
}

const FLOW_FILES: Record<string, string> = {
  saga: 'apps/order/src/flows/saga/order.saga.ts',
  tcc: 'apps/order/src/flows/tcc/order.tcc.ts',
  '2pc': 'apps/order/src/flows/twopc/order.2pc.ts',
};
const LOCK_NOT_AVAILABLE = '55P03';
const STOCK = 1_000_000;
const BALANCE_CENTS = 1_000_000_000;

export async function measureTradeoffs(
  context: TradeoffContext,
  strategies: string[],
  { orders = 30, outageMs = 3000 } = {},
): Promise<TradeoffResult> {
  const hold: HoldRow[] = [];
  const outage: OutageRow[] = [];
  for (const strategy of strategies) {
    hold.push(await holdAndView(context, strategy, orders));
    outage.push(await coordinatorOutage(context, strategy, outageMs));
  }
  const flowLines: Record<string, number> = {};
  for (const strategy of strategies) {
    try {
      flowLines[strategy] = readFileSync(FLOW_FILES[strategy], 'utf8').trimEnd().split('\n').length;
    } catch {
      // A strategy without a flow file of its own: no figure.
    }
  }
  return { hold, outage, flowLines };
}

/** A customer and a product of their own for one measurement, so nothing else touches the row. */
async function fixture(context: TradeoffContext, label: string) {
  const id = `tradeoff-${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  await post(`${context.urls.payment}/accounts`, { customerId: id, balanceCents: BALANCE_CENTS });
  await post(`${context.urls.inventory}/products`, {
    sku: id,
    name: id,
    priceCents: 100,
    stock: STOCK,
  });
  return { customerId: id, sku: id };
}

async function placeOrder(
  context: TradeoffContext,
  strategy: string,
  customerId: string,
  sku: string,
) {
  const order = await post<{ id: string }>(
    `${context.urls.order}/orders`,
    { customerId, items: [{ sku, quantity: 1 }], strategy },
    { customerId },
  );
  return order.id;
}

/** What a plain reader and a locking reader find on the product row, on `client`. */
async function probe(client: pg.PoolClient, sku: string) {
  const { rows } = await client.query<{ reserved: string }>(
    'SELECT reserved FROM products WHERE sku = $1',
    [sku],
  );
  let locked = false;
  try {
    await client.query('SELECT 1 FROM products WHERE sku = $1 FOR SHARE NOWAIT', [sku]);
  } catch (error) {
    if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
    locked = true;
  }
  return { held: Number(rows[0]?.reserved ?? 0) > 0, locked };
}

/** Whether inventory holds this order's branch as a prepared transaction (2PC's hold). */
async function preparedFor(context: TradeoffContext, orderId: string): Promise<boolean> {
  // The gid is `twopc:<database>:<order>:<participant>` (libs/dist-core/src/twopc).
  const { rows } = await context.databases.inventory.query(
    `SELECT 1 FROM pg_prepared_xacts
     WHERE database = current_database() AND gid LIKE 'twopc:%:' || $1::text || ':inventory'`,
    [orderId],
  );
  return rows.length > 0;
}

async function holdAndView(
  context: TradeoffContext,
  strategy: string,
  orders: number,
): Promise<HoldRow> {
  const { customerId, sku } = await fixture(context, strategy);
  const client = await context.databases.inventory.connect();
  let inFlight = false;
  let running = true;
  let samples = 0;
  let heldSamples = 0;
  let lockedSamples = 0;
  let lockedMs = 0;
  const prober = (async () => {
    let previous = performance.now();
    while (running) {
      const state = await probe(client, sku);
      const now = performance.now();
      if (inFlight) {
        samples += 1;
        if (state.held) heldSamples += 1;
        if (state.locked) {
          lockedSamples += 1;
          lockedMs += now - previous;
        }
      }
      previous = now;
    }
  })();
  try {
    for (let i = 0; i < orders; i += 1) {
      inFlight = true;
      const id = await placeOrder(context, strategy, customerId, sku);
      await context.tracker.terminal(id);
      inFlight = false;
    }
  } finally {
    running = false;
    await prober;
    client.release();
  }
  return {
    strategy,
    orders,
    samples,
    lockedMsPerOrder: Math.round((lockedMs / orders) * 10) / 10,
    heldVisibleShare: samples ? heldSamples / samples : 0,
    lockedShare: samples ? lockedSamples / samples : 0,
  };
}

async function coordinatorOutage(
  context: TradeoffContext,
  strategy: string,
  outageMs: number,
): Promise<OutageRow> {
  const { customerId, sku } = await fixture(context, `${strategy}-outage`);
  const client = await context.databases.inventory.connect();
  try {
    // The kill may come after the order already ended (it is a matter of milliseconds): then
    // it is tried again with another order.
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const id = await placeOrder(context, strategy, customerId, sku);
      // The kill waits until inventory's hold is durable: the reservation committed (saga, TCC)
      // or the prepared transaction (2PC). A row lock alone may be the prepare's transaction
      // still running: killed then, the coordinator lost nothing that holds the row.
      const held = async () =>
        strategy === '2pc' ? preparedFor(context, id) : (await probe(client, sku)).held;
      const holding = async () => {
        const state = await probe(client, sku);
        return state.held || state.locked || (await preparedFor(context, id));
      };
      const deadline = Date.now() + 10_000;
      while (!(await held()) && Date.now() < deadline) await sleep(0);
      await context.services.kill('order');
      const killedAt = Date.now();

      // While the coordinator is down: is the row locked (sampled before the restock, whose own
      // update locks it briefly), and does a restock of the product have to wait?
      let lockedDuringOutage = false;
      while (Date.now() - killedAt < outageMs / 2) {
        if ((await probe(client, sku)).locked) lockedDuringOutage = true;
        await sleep(50);
      }
      const restockStarted = Date.now();
      const restock = fetchStatus(`${context.urls.inventory}/products/${sku}/restock`, {
        quantity: 1,
      }).then((status) => ({ status, ms: Date.now() - restockStarted }));
      await sleep(Math.max(0, outageMs - (Date.now() - killedAt)));
      await context.services.restart('order');

      let heldForMs: number | null = null;
      const freeBy = Date.now() + 60_000;
      while (Date.now() < freeBy) {
        if (!(await holding())) {
          heldForMs = Date.now() - killedAt;
          break;
        }
        await sleep(5);
      }
      const outcome = await context.tracker.terminal(id);
      const stock = await restock;
      if (outcome.endedAt < killedAt) continue; // ended before the kill: not an outage mid-flight
      return {
        strategy,
        outageMs,
        heldForMs,
        terminalAfterMs: outcome.endedAt - killedAt,
        restockMs: stock.ms,
        restockStatus: stock.status,
        lockedDuringOutage,
        attempts: attempt,
      };
    }
    return {
      strategy,
      outageMs,
      heldForMs: null,
      terminalAfterMs: null,
      restockMs: null,
      restockStatus: null,
      lockedDuringOutage: null,
      attempts: 5,
    };
  } finally {
    client.release();
  }
}

/** An operator's POST whose status is the result (a 5xx or a timeout is a figure here, not an error). */
async function fetchStatus(url: string, body: unknown): Promise<number> {
  try {
    await post(url, body);
    return 200;
  } catch (error) {
    const match = /: (\d{3}) /.exec((error as Error).message);
    return match ? Number(match[1]) : 0;
  }
}

/** The trade-off tables in Markdown. */
export function tradeoffTables(result: TradeoffResult): string {
  const pct = (share: number) => `${Math.round(share * 100)} %`;
  const ms = (value: number | null) => (value === null ? '–' : `${value}`);
  const lines = [
    '| strategy | flow definition, lines | hot row locked, ms per order | plain reader sees the stock held | locking reader finds the row locked |',
    '|---|---|---|---|---|',
    ...result.hold.map(
      (row) =>
        `| ${row.strategy} | ${result.flowLines[row.strategy] ?? '–'} | ${row.lockedMsPerOrder} | ${pct(row.heldVisibleShare)} of samples | ${pct(row.lockedShare)} of samples |`,
    ),
    '',
    '| strategy | coordinator down, ms | stock held after the kill, ms | order terminal after the kill, ms | row locked while down | restock sent while down: ms (status) |',
    '|---|---|---|---|---|---|',
    ...result.outage.map(
      (row) =>
        `| ${row.strategy} | ${row.outageMs} | ${ms(row.heldForMs)} | ${ms(row.terminalAfterMs)} | ${row.lockedDuringOutage === null ? '–' : row.lockedDuringOutage ? 'yes' : 'no'} | ${ms(row.restockMs)} (${row.restockStatus ?? '–'}) |`,
    ),
  ];
  return lines.join('\n');
}
