import type { BusinessReason, OrderLine, PricedLine } from '@app/order-flow-api';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** A product row as the API shows it (Postgres bigints arrive as strings). */
export interface Product {
  sku: string;
  name: string;
  priceCents: number;
  available: number;
  reserved: number;
  sold: number;
}

interface ProductRow {
  sku: string;
  name: string;
  price_cents: string;
  available: string;
  reserved: string;
  sold: string;
}

const PRODUCT_COLUMNS = 'sku, name, price_cents, available, reserved, sold';

/** The reservation's outcome: a business result sent back to the order, never an exception. */
export type ReserveResult =
  | { outcome: 'SUCCESS'; items: PricedLine[]; totalCents: number }
  | { outcome: 'FAILURE'; reason: Extract<BusinessReason, 'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT'> };

export type RestockResult = Product | 'unknown' | 'too-much';

/** available + reserved + sold must stay an exact JSON number (the products table checks it). */
const MAX_TOTAL_UNITS = Number.MAX_SAFE_INTEGER;

/**
 * Every rule about stock, in one place. Each change is ONE conditional UPDATE per product, so
 * "never negative" is decided by the row the statement locks and not by an earlier read.
 *
 * Products are always updated in ascending SKU order, so two orders sharing SKUs take their row
 * locks in the same order and never deadlock.
 */
@Injectable()
export class StockLedger {
  async create(manager: EntityManager, product: Omit<Product, 'reserved' | 'sold'>) {
    const rows: ProductRow[] = await manager.query(
      `INSERT INTO products (sku, name, price_cents, available) VALUES ($1, $2, $3, $4)
       ON CONFLICT (sku) DO NOTHING RETURNING ${PRODUCT_COLUMNS}`,
      [product.sku, product.name, product.priceCents, product.available],
    );
    return rows.length === 1 ? toProduct(rows[0]) : null;
  }

  async find(manager: EntityManager, sku: string): Promise<Product | null> {
    const rows: ProductRow[] = await manager.query(
      `SELECT ${PRODUCT_COLUMNS} FROM products WHERE sku = $1`,
      [sku],
    );
    return rows.length === 1 ? toProduct(rows[0]) : null;
  }

  async restock(manager: EntityManager, sku: string, quantity: number): Promise<RestockResult> {
    const rows = await updateReturning<ProductRow>(
      manager,
      `UPDATE products SET available = available + $2, updated_at = now()
       WHERE sku = $1 AND available + reserved + sold + $2 <= $3
       RETURNING ${PRODUCT_COLUMNS}`,
      [sku, quantity, MAX_TOTAL_UNITS],
    );
    if (rows.length === 1) return toProduct(rows[0]);
    return (await this.find(manager, sku)) ? 'too-much' : 'unknown';
  }

  /**
   * Reserves every line or reports why not. On FAILURE the caller must roll back the lines
   * already reserved: the barrier does, by rolling its savepoint back on a FAILURE result.
   */
  reserve(manager: EntityManager, orderId: string, lines: OrderLine[]): Promise<ReserveResult> {
    return this.take(manager, orderId, lines, 'reserved', 'RESERVED');
  }

  /**
   * 2PC prepare: the units are sold at once, inside the prepared transaction, which is itself
   * the reservation: no reader sees them gone until the coordinator's commit, and its rollback
   * undoes them with everything else. So `reserved` stays 0 for 2PC orders.
   */
  async sellInPreparedTransaction(
    manager: EntityManager,
    orderId: string,
    lines: OrderLine[],
  ): Promise<ReserveResult> {
    // Refused without waiting for a row lock when the committed stock already falls short.
    // Safe: an order prepared meanwhile (its row locked, its units not yet committed) can only
    // lower what is available, so a refusal by the committed figures is a refusal by any. Only
    // an order that may succeed queues for the row behind the prepared transactions holding it.
    const refusal = await this.shortOfCommittedStock(manager, lines);
    if (refusal) return refusal;
    return this.take(manager, orderId, lines, 'sold', 'SOLD');
  }

  /** OUT_OF_STOCK or UNKNOWN_PRODUCT by a plain read (no lock), or null if every line may fit. */
  private async shortOfCommittedStock(
    manager: EntityManager,
    lines: OrderLine[],
  ): Promise<ReserveResult | null> {
    const rows: { sku: string; available: string }[] = await manager.query(
      'SELECT sku, available FROM products WHERE sku = ANY($1::text[])',
      [lines.map((line) => line.sku)],
    );
    const available = new Map(rows.map((row) => [row.sku, Number(row.available)]));
    for (const line of lines) {
      const units = available.get(line.sku);
      if (units === undefined) return { outcome: 'FAILURE', reason: 'UNKNOWN_PRODUCT' };
      if (units < line.quantity) return { outcome: 'FAILURE', reason: 'OUT_OF_STOCK' };
    }
    return null;
  }

  /** Moves every line's units out of `available` into `to`, recording the order's lines and prices. */
  private async take(
    manager: EntityManager,
    orderId: string,
    lines: OrderLine[],
    to: 'reserved' | 'sold',
    status: 'RESERVED' | 'SOLD',
  ): Promise<ReserveResult> {
    const unitPrices = new Map<string, number>();
    for (const line of inLockOrder(lines)) {
      // No Redlock for stock: one conditional UPDATE is atomic on its row, inside the barrier tx.
      const rows = await updateReturning<{ price_cents: string }>(
        manager,
        `UPDATE products
         SET available = available - $2, ${to} = ${to} + $2, updated_at = now()
         WHERE sku = $1 AND available >= $2
         RETURNING price_cents`,
        [line.sku, line.quantity],
      );
      if (rows.length === 0) {
        const known = await this.find(manager, line.sku);
        return { outcome: 'FAILURE', reason: known ? 'OUT_OF_STOCK' : 'UNKNOWN_PRODUCT' };
      }
      unitPrices.set(line.sku, Number(rows[0].price_cents));
    }
    // The prices of this moment are the order's prices: stored here and sent in the reply.
    const items = lines.map((line) => ({ ...line, unitPriceCents: unitPrices.get(line.sku)! }));
    await manager.query(
      `INSERT INTO reservations (order_id, sku, quantity, unit_price_cents, status, settled_at)
       SELECT $1::bigint, sku, quantity, unit_price_cents, $5,
              CASE WHEN $5 = 'RESERVED' THEN NULL ELSE now() END
       FROM unnest($2::text[], $3::integer[], $4::bigint[]) AS l (sku, quantity, unit_price_cents)`,
      [
        orderId,
        items.map((item) => item.sku),
        items.map((item) => item.quantity),
        items.map((item) => item.unitPriceCents),
        status,
      ],
    );
    const totalCents = items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);
    return { outcome: 'SUCCESS', items, totalCents };
  }

  /** The order's reserved units become sold. */
  sell(manager: EntityManager, orderId: string, lines: OrderLine[]): Promise<void> {
    return this.settle(manager, orderId, lines, 'SOLD', 'sold = sold + $2');
  }

  /** The order's reserved units become available again. */
  release(manager: EntityManager, orderId: string, lines: OrderLine[]): Promise<void> {
    return this.settle(manager, orderId, lines, 'RELEASED', 'available = available + $2');
  }

  /**
   * Moves each of the order's reservations out of `reserved` once: only rows still RESERVED
   * move, so even a second settlement (which the barrier already prevents) changes nothing.
   * The command must name exactly the reserved lines; otherwise it was not sent for this
   * reservation, and the error rolls the whole settlement back.
   */
  private async settle(
    manager: EntityManager,
    orderId: string,
    lines: OrderLine[],
    status: 'SOLD' | 'RELEASED',
    destination: string,
  ): Promise<void> {
    const settled = await updateReturning<{ sku: string; quantity: number }>(
      manager,
      `UPDATE reservations SET status = $2, settled_at = now()
       WHERE order_id = $1 AND status = 'RESERVED'
       RETURNING sku, quantity`,
      [orderId, status],
    );
    if (!sameLines(settled, lines)) {
      throw new ReservationMismatchError(orderId);
    }
    for (const line of inLockOrder(settled)) {
      await manager.query(
        `UPDATE products SET reserved = reserved - $2, ${destination}, updated_at = now()
         WHERE sku = $1`,
        [line.sku, line.quantity],
      );
    }
  }
}

/** A settlement whose lines are not the ones its order's Try reserved. */
export class ReservationMismatchError extends Error {
  constructor(orderId: string) {
    super(`Order ${orderId}: the command's lines are not the reserved ones`);
    this.name = 'ReservationMismatchError';
  }
}

export function sameLines(reserved: OrderLine[], lines: OrderLine[]): boolean {
  if (reserved.length !== lines.length) return false;
  const quantities = new Map(lines.map((line) => [line.sku, line.quantity]));
  return reserved.every((line) => quantities.get(line.sku) === Number(line.quantity));
}

function inLockOrder<L extends { sku: string }>(lines: L[]): L[] {
  return [...lines].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

/** TypeORM answers an UPDATE … RETURNING with [rows, affected count]. */
async function updateReturning<Row>(
  manager: EntityManager,
  sql: string,
  params: unknown[],
): Promise<Row[]> {
  const [rows] = (await manager.query(sql, params)) as [Row[], number];
  return rows;
}

function toProduct(row: ProductRow): Product {
  return {
    sku: row.sku,
    name: row.name,
    priceCents: Number(row.price_cents),
    available: Number(row.available),
    reserved: Number(row.reserved),
    sold: Number(row.sold),
  };
}
