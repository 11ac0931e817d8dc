/**
 * The peers' payment service: a Node process on its own database, answering the saga's charge
 * and its compensation with the project's account SQL (apps/payment/src/accounts/
 * accounts-ledger.ts): one conditional UPDATE moves money between an account's figures, so no
 * figure goes negative, and the order's movement row records it.
 *   charge  available → spent (the Try, once per order: step-log.ts)
 *   refund  spent → available, once (compare-and-set on the movement's state), or refuses a
 *           charge that has not run (null compensation)
 */
import pg from 'pg';
import type { ChargeResult } from '../contracts.js';
import { ROUTES } from '../contracts.js';
import { onTerminate, serveJson } from '../http-json.js';
import { inTransaction, refuseTry, tryOnce } from '../step-log.js';
import { PEER_POOL_SIZE } from '../topology.js';

const pool = new pg.Pool({ connectionString: process.env.PEER_DB_URL, max: PEER_POOL_SIZE });

interface Charge {
  orderId: string;
  customerId: string;
  amountCents: number;
}

function charge({ orderId, customerId, amountCents }: Charge) {
  return tryOnce<ChargeResult>(pool, orderId, 'charge', async (client) => {
    const moved = await client.query(
      `WITH moved AS (
         UPDATE accounts SET available_cents = available_cents - $3,
                             spent_cents = spent_cents + $3, updated_at = now()
         WHERE customer_id = $2 AND available_cents >= $3 RETURNING customer_id)
       INSERT INTO payment_movements (order_id, customer_id, amount_cents, kind, state)
       SELECT $1, customer_id, $3, 'CHARGE', 'CHARGED' FROM moved`,
      [orderId, customerId, amountCents],
    );
    if (moved.rowCount === 1) return { outcome: 'SUCCESS' };
    const known = await client.query('SELECT 1 FROM accounts WHERE customer_id = $1', [customerId]);
    return {
      outcome: 'FAILURE',
      reason: known.rowCount ? 'INSUFFICIENT_FUNDS' : 'UNKNOWN_CUSTOMER',
    };
  });
}

const refund = ({ orderId }: { orderId: string }) =>
  inTransaction(pool, async (client) => {
    if (await refuseTry(client, orderId, 'charge')) return { ok: true };
    const { rows } = await client.query<{ customer_id: string; amount_cents: string }>(
      `UPDATE payment_movements SET state = 'REFUNDED', updated_at = now()
       WHERE order_id = $1 AND state = 'CHARGED' RETURNING customer_id, amount_cents`,
      [orderId],
    );
    if (rows.length === 1) {
      await client.query(
        `UPDATE accounts SET spent_cents = spent_cents - $2,
                             available_cents = available_cents + $2, updated_at = now()
         WHERE customer_id = $1`,
        [rows[0].customer_id, rows[0].amount_cents],
      );
    }
    return { ok: true };
  });

const server = await serveJson(Number(process.env.PEER_PORT), {
  [ROUTES.charge]: charge,
  [ROUTES.refund]: refund,
});
onTerminate(async () => {
  server.close();
  await pool.end();
});
