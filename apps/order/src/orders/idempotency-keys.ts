import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { OrderRequest } from './order.js';

/*
 * Idempotency-Key: how a retried POST /orders returns the order it created, and never a second.
 *
 * The difficulty is sharding: an order lives on the shard of its Snowflake id, which does not
 * exist yet when the request arrives, so no single shard can hold "key → order" and the order in
 * one local transaction. The mechanism is a unique constraint and a deterministic order id:
 *
 *  1. Claim. On the shard the KEY hashes to (same ring), `INSERT (customer, key, request hash, a
 *     new order id) ON CONFLICT (customer, key) DO NOTHING`, committed on its own, then read the
 *     row back. The primary key lets exactly one request claim the key; a concurrent request
 *     with the same key waits for that insert to commit and then reads the winner's row. From
 *     here on the key names one order id until it expires.
 *  2. Compare. A row whose request hash differs from this body's → 422.
 *  3. Ensure. On the shard of the claimed order id, insert the order with that id and start its
 *     flow in one transaction, `ON CONFLICT (id) DO NOTHING`; if it already exists, read it.
 *     Every request holding the key runs this step, not only the one that claimed it, so any
 *     of them may be the one that creates the order: the primary key on orders.id lets exactly
 *     one insert win, and only the winner starts the flow (same transaction).
 *
 * Crash windows: before the claim commits, nothing exists and a retry starts afresh. Between
 * the claim and the order (the process died), the key names an order id that has no order; the
 * replay's step 3 creates it, with that same id and — the hashes being equal — the same request,
 * so the client still ends up with exactly one order. A claim whose client never retries leaves
 * an unused key row and no order, which is harmless (no one was told of an order).
 *
 * Why not a Redlock on the key: a lock only shortens the race window; correctness would still
 * need the unique constraints (a paused holder outlives its lease), and with them the lock adds
 * a Redis round trip and nothing else.
 *
 * Keys are per customer: the primary key is (customer, key), so two customers' keys never meet.
 * A key expires IDEMPOTENCY_KEY_TTL_HOURS after its claim (as Stripe's do): a retry is a matter of
 * minutes, and a key reused a day later is a new request. Expiry is part of the claim: the
 * conflicting row is taken over (`DO UPDATE … WHERE` it is expired) in the same statement, so two
 * requests reusing an expired key still get one new order between them — the second waits on
 * the row lock, then sees the fresh claim and reads it. The retention purge deletes old rows.
 */

/** How long a key names its order. RETENTION_HOURS may not be shorter (see config/defaults.ts). */
export const IDEMPOTENCY_KEY_TTL_HOURS = 24;

/**
 * SHA-256 of the request in canonical form: fixed field order, the default strategy filled in
 * (so omitting `strategy` and sending `"saga"` are the same request), lines in the order sent.
 */
export function requestHash(request: OrderRequest): string {
  const canonical = JSON.stringify({
    customerId: request.customerId,
    items: request.items.map(({ sku, quantity }) => ({ sku, quantity })),
    strategy: request.strategy,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

export interface IdempotencyClaim {
  /** The order the key names: the given id if this request claimed the key, else the winner's. */
  orderId: string;
  /** The hash of the body the key was first used with. */
  requestHash: string;
}

/** Step 1 above, on the key's shard. Autocommit: each statement is its own transaction. */
export async function claimIdempotencyKey(
  dataSource: DataSource,
  customerId: string,
  key: string,
  hash: string,
  newOrderId: string,
): Promise<IdempotencyClaim> {
  type Row = { order_id: string; request_hash: string };
  const claimed = (await dataSource.query(
    `INSERT INTO idempotency_keys (customer_id, key, request_hash, order_id, created_at)
     VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (customer_id, key) DO UPDATE
       SET request_hash = EXCLUDED.request_hash, order_id = EXCLUDED.order_id,
           created_at = EXCLUDED.created_at
       WHERE idempotency_keys.created_at < now() - make_interval(hours => $5)
     RETURNING order_id, request_hash`,
    [customerId, key, hash, newOrderId, IDEMPOTENCY_KEY_TTL_HOURS],
  )) as Row[];
  // Read committed: the SELECT takes a new snapshot, which includes the row the conflicting
  // insert (that ours waited for) committed.
  const rows =
    claimed.length === 1
      ? claimed
      : ((await dataSource.query(
          'SELECT order_id, request_hash FROM idempotency_keys WHERE customer_id = $1 AND key = $2',
          [customerId, key],
        )) as Row[]);
  if (rows.length !== 1) throw new Error(`Idempotency key row vanished after its conflict`);
  return { orderId: rows[0].order_id, requestHash: rows[0].request_hash };
}
