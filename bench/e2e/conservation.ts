/**
 * After each system's run: nothing lost, nothing doubled. Every unit of stock is available,
 * reserved or sold, and every cent available, frozen or spent, as much as there was at the
 * start; nothing is left reserved or frozen; nothing is left PENDING; and what was sold and
 * spent is exactly what the COMPLETED orders add up to, product by product and customer by
 * customer (an effect applied twice, or applied for a cancelled order, shows here).
 */
export interface ProductFigures {
  sku: string;
  available: number;
  reserved: number;
  sold: number;
}

export interface AccountFigures {
  customerId: string;
  available: number;
  frozen: number;
  spent: number;
}

/** A COMPLETED order's lines and total. */
export interface CompletedOrder {
  customerId: string;
  totalCents: number;
  items: { sku: string; quantity: number }[];
}

export interface LedgerSnapshot {
  products: ProductFigures[];
  accounts: AccountFigures[];
  completed: CompletedOrder[];
  /** Orders not terminal when the check ran. */
  pending: number;
}

/** The ledger rows as Postgres returns them (numeric columns as text), in every system's schema. */
export interface ProductRow {
  sku: string;
  available: string;
  reserved: string;
  sold: string;
}
export interface AccountRow {
  customer_id: string;
  available_cents: string;
  frozen_cents: string;
  spent_cents: string;
}
export interface OrderRow {
  customer_id: string;
  status: string;
  total_cents: string | null;
  items: { sku: string; quantity: number }[];
}

/** The snapshot of those rows: what `check` compares. */
export function ledgerSnapshot(
  products: ProductRow[],
  accounts: AccountRow[],
  orders: OrderRow[],
): LedgerSnapshot {
  return {
    products: products.map((r) => ({
      sku: r.sku,
      available: Number(r.available),
      reserved: Number(r.reserved),
      sold: Number(r.sold),
    })),
    accounts: accounts.map((r) => ({
      customerId: r.customer_id,
      available: Number(r.available_cents),
      frozen: Number(r.frozen_cents),
      spent: Number(r.spent_cents),
    })),
    completed: orders
      .filter((r) => r.status === 'COMPLETED')
      .map((r) => ({
        customerId: r.customer_id,
        totalCents: Number(r.total_cents),
        items: r.items,
      })),
    pending: orders.filter((r) => r.status === 'PENDING').length,
  };
}

export interface Initial {
  stockOf: (sku: string) => number;
  balanceOf: (customerId: string) => number;
}

export interface ConservationResult {
  ok: boolean;
  /** The first few violations, each a sentence naming the row. */
  violations: string[];
  checked: { products: number; accounts: number; completedOrders: number };
}

export function checkConservation(snapshot: LedgerSnapshot, initial: Initial): ConservationResult {
  const violations: string[] = [];
  const soldBySku = new Map<string, number>();
  const spentByCustomer = new Map<string, number>();
  for (const order of snapshot.completed) {
    spentByCustomer.set(
      order.customerId,
      (spentByCustomer.get(order.customerId) ?? 0) + order.totalCents,
    );
    for (const line of order.items) {
      soldBySku.set(line.sku, (soldBySku.get(line.sku) ?? 0) + line.quantity);
    }
  }
  if (snapshot.pending > 0) violations.push(`${snapshot.pending} orders still PENDING`);
  for (const p of snapshot.products) {
    const total = p.available + p.reserved + p.sold;
    if (total !== initial.stockOf(p.sku)) {
      violations.push(
        `${p.sku}: available+reserved+sold = ${total}, stock was ${initial.stockOf(p.sku)}`,
      );
    }
    if (p.reserved !== 0) violations.push(`${p.sku}: ${p.reserved} units left reserved`);
    if (p.sold !== (soldBySku.get(p.sku) ?? 0)) {
      violations.push(
        `${p.sku}: sold ${p.sold}, completed orders hold ${soldBySku.get(p.sku) ?? 0}`,
      );
    }
  }
  for (const a of snapshot.accounts) {
    const total = a.available + a.frozen + a.spent;
    if (total !== initial.balanceOf(a.customerId)) {
      violations.push(
        `${a.customerId}: available+frozen+spent = ${total}, funds were ${initial.balanceOf(a.customerId)}`,
      );
    }
    if (a.frozen !== 0) violations.push(`${a.customerId}: ${a.frozen} cents left frozen`);
    if (a.spent !== (spentByCustomer.get(a.customerId) ?? 0)) {
      violations.push(
        `${a.customerId}: spent ${a.spent}, completed orders total ${spentByCustomer.get(a.customerId) ?? 0}`,
      );
    }
  }
  return {
    ok: violations.length === 0,
    violations: violations.slice(0, 10),
    checked: {
      products: snapshot.products.length,
      accounts: snapshot.accounts.length,
      completedOrders: snapshot.completed.length,
    },
  };
}
