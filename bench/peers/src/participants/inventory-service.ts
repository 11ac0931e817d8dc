/**
 * The peers' inventory service: a Node process on its own database, answering the order
 * flow's three inventory calls with the project's stock SQL (apps/inventory/src/products/
 * stock-ledger.ts): one conditional UPDATE per line, so stock never goes negative, and
 * reservations that settle once by compare-and-set on their status.
 *   reserve  available → reserved (the Try, once per order: step-log.ts)
 *   confirm  reserved → sold
 *   release  reserved → available (or refuses a Try that has not run: null compensation)
 */
import pg from 'pg';
import type { OrderLine, PricedLine, ReserveResult } from '../contracts.js';
import { ROUTES } from '../contracts.js';
import { onTerminate, serveJson } from '../http-json.js';
import { inTransaction, refuseTry, tryOnce } from '../step-log.js';
import { PEER_POOL_SIZE } from '../topology.js';

const pool = new pg.Pool({ connectionString: process.env.PEER_DB_URL, max: PEER_POOL_SIZE });

/** Lines in ascending SKU order: two orders sharing SKUs lock rows in one order, no deadlock. */
const inLockOrder = <L extends { sku: string }>(lines: L[]) =>
  [...lines].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));

function reserve({ orderId, items }: { orderId: string; items: OrderLine[] }) {
  return tryOnce<ReserveResult>(pool, orderId, 'reserve', async (client) => {
    const prices = new Map<string, number>();
    for (const line of inLockOrder(items)) {
      const { rows } = await client.query<{ price_cents: string }>(
        `UPDATE products
         SET available = available - $2, reserved = reserved + $2, updated_at = now()
         WHERE sku = $1 AND available >= $2
         RETURNING price_cents`,
        [line.sku, line.quantity],
      );
      if (rows.length === 0) {
        const known = await client.query('SELECT 1 FROM products WHERE sku = $1', [line.sku]);
        return { outcome: 'FAILURE', reason: known.rowCount ? 'OUT_OF_STOCK' : 'UNKNOWN_PRODUCT' };
      }
      prices.set(line.sku, Number(rows[0].price_cents));
    }
    const priced: PricedLine[] = items.map((l) => ({ ...l, unitPriceCents: prices.get(l.sku)! }));
    await client.query(
      `INSERT INTO reservations (order_id, sku, quantity, unit_price_cents)
       SELECT $1, sku, quantity, unit_price_cents
       FROM unnest($2::text[], $3::integer[], $4::bigint[]) AS l (sku, quantity, unit_price_cents)`,
      [
        orderId,
        priced.map((l) => l.sku),
        priced.map((l) => l.quantity),
        priced.map((l) => l.unitPriceCents),
      ],
    );
    const totalCents = priced.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0);
    return { outcome: 'SUCCESS', items: priced, totalCents };
  });
}

/**
 * Moves the order's RESERVED lines once: a repeated call finds none left and changes nothing.
 * `destination` is the column the units go to.
 */
async function settle(client: pg.PoolClient, orderId: string, status: 'SOLD' | 'RELEASED') {
  const destination = status === 'SOLD' ? 'sold = sold + $2' : 'available = available + $2';
  const { rows } = await client.query<{ sku: string; quantity: number }>(
    `UPDATE reservations SET status = $2, settled_at = now()
     WHERE order_id = $1 AND status = 'RESERVED'
     RETURNING sku, quantity`,
    [orderId, status],
  );
  for (const line of inLockOrder(rows)) {
    await client.query(
      `UPDATE products SET reserved = reserved - $2, ${destination}, updated_at = now()
       WHERE sku = $1`,
      [line.sku, line.quantity],
    );
  }
}

const confirm = ({ orderId }: { orderId: string }) =>
  inTransaction(pool, async (client) => {
    await settle(client, orderId, 'SOLD');
    return { ok: true };
  });

const release = ({ orderId }: { orderId: string }) =>
  inTransaction(pool, async (client) => {
    if (!(await refuseTry(client, orderId, 'reserve'))) await settle(client, orderId, 'RELEASED');
    return { ok: true };
  });

const server = await serveJson(Number(process.env.PEER_PORT), {
  [ROUTES.reserve]: reserve,
  [ROUTES.confirm]: confirm,
  [ROUTES.release]: release,
});
onTerminate(async () => {
  server.close();
  await pool.end();
});
