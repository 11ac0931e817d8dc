import pg from 'pg';
import type { PlacedOrder, PlaceOrder, OrderLine } from './contracts.js';
import { ROUTES } from './contracts.js';
import type { ChargeResult, ReserveResult } from './contracts.js';
import { postJson } from './http-json.js';
import { PEER_POOL_SIZE } from './topology.js';

/**
 * What every peer's order service shares: its orders table (the latency the bench reports is
 * this table's created_at → updated_at, as for the project's services) and its calls to the
 * two participants. Each call is idempotent on the participant's side, so each framework may
 * retry or replay it.
 */
export class OrderStore {
  private readonly pool = new pg.Pool({
    connectionString: process.env.PEER_DB_URL,
    max: PEER_POOL_SIZE,
  });

  /** Records the order PENDING; a replay of the same id changes nothing. */
  async create(id: string, order: PlaceOrder): Promise<void> {
    await this.pool.query(
      `INSERT INTO orders (id, customer_id, status, items, created_at, updated_at)
       VALUES ($1, $2, 'PENDING', $3, now(), now()) ON CONFLICT (id) DO NOTHING`,
      [id, order.customerId, JSON.stringify(order.items)],
    );
  }

  /**
   * PENDING → COMPLETED or CANCELLED, once (compare-and-set on the status); a replay reads the
   * order as the first call left it.
   */
  async finish(
    id: string,
    outcome: { status: 'COMPLETED'; totalCents: number } | { status: 'CANCELLED'; reason: string },
  ): Promise<PlacedOrder> {
    const { rows } = await this.pool.query<OrderRow>(
      `WITH finished AS (
         UPDATE orders SET status = $2, reason = $3, total_cents = $4, updated_at = now()
         WHERE id = $1 AND status = 'PENDING' RETURNING ${COLUMNS})
       SELECT * FROM finished UNION ALL SELECT ${COLUMNS} FROM orders WHERE id = $1 LIMIT 1`,
      [
        id,
        outcome.status,
        outcome.status === 'CANCELLED' ? outcome.reason : null,
        outcome.status === 'COMPLETED' ? outcome.totalCents : null,
      ],
    );
    const row = rows[0];
    return {
      id: row.id,
      status: row.status,
      reason: row.reason,
      createdAt: row.created_at.getTime(),
      updatedAt: row.updated_at.getTime(),
    };
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

const COLUMNS = 'id, status, reason, created_at, updated_at';

interface OrderRow {
  id: string;
  status: 'COMPLETED' | 'CANCELLED';
  reason: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The participants' calls; a thrown error is a fault (5xx, refused connection) to retry. */
export class Participants {
  private readonly inventory = `http://127.0.0.1:${process.env.PEER_INVENTORY_PORT}`;
  private readonly payment = `http://127.0.0.1:${process.env.PEER_PAYMENT_PORT}`;

  reserve(orderId: string, items: OrderLine[]) {
    return postJson<ReserveResult>(this.inventory + ROUTES.reserve, { orderId, items });
  }
  confirm(orderId: string) {
    return postJson<{ ok: true }>(this.inventory + ROUTES.confirm, { orderId });
  }
  release(orderId: string) {
    return postJson<{ ok: true }>(this.inventory + ROUTES.release, { orderId });
  }
  charge(orderId: string, customerId: string, amountCents: number) {
    return postJson<ChargeResult>(this.payment + ROUTES.charge, {
      orderId,
      customerId,
      amountCents,
    });
  }
  refund(orderId: string) {
    return postJson<{ ok: true }>(this.payment + ROUTES.refund, { orderId });
  }
}
