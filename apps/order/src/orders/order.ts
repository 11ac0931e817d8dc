import type { BusinessReason, OrderLine, PricedLine } from '@app/dist-core/contracts';

/** The order's rules, in one place: what an order is, and how its lines are priced. */

export const ORDER_STRATEGIES = ['saga', 'tcc'] as const;
export type OrderStrategy = (typeof ORDER_STRATEGIES)[number];

/** PENDING, then exactly one of the two terminal statuses, never changing again. */
export type OrderStatus = 'PENDING' | 'COMPLETED' | 'CANCELLED';

/** Why an order was cancelled: a participant's business answer, or no answer in time. */
export type CancelReason = BusinessReason | 'TIMEOUT';

export interface OrderItem {
  sku: string;
  quantity: number;
  /** Inventory's price at the time of the order; null until inventory has priced the line. */
  unitPriceCents: number | null;
}

export interface Order {
  /** Snowflake id, a decimal string. */
  id: string;
  customerId: string;
  strategy: OrderStrategy;
  status: OrderStatus;
  reason: string | null;
  items: OrderItem[];
  totalCents: number | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What a client asks for, with the defaults applied: the input of both flows. */
export interface OrderRequest {
  customerId: string;
  items: OrderLine[];
  strategy: OrderStrategy;
}

export interface PricedOrder {
  items: PricedLine[];
  totalCents: number;
}

/** A priced reply that does not price the order's lines: a participant bug, not a business answer. */
export class PricingError extends Error {
  constructor(problem: string) {
    super(`Inventory's priced reply is unusable: ${problem}`);
    this.name = 'PricingError';
  }
}

/**
 * Prices the order's lines from inventory's reservation reply (`items: [{sku, quantity,
 * unitPriceCents}]`). The total is computed here, from the order's own quantities, rather than
 * taken from the reply, so a COMPLETED order's totalCents = Σ quantity × unitPriceCents by
 * construction — and payment is asked for exactly that amount.
 */
export function priceOrder(lines: readonly OrderLine[], reply: unknown): PricedOrder {
  const priced = (reply as { items?: unknown } | null)?.items;
  if (!Array.isArray(priced)) throw new PricingError('no items');
  const prices = new Map<string, number>();
  for (const entry of priced as Partial<PricedLine>[]) {
    if (typeof entry?.sku === 'string') prices.set(entry.sku, entry.unitPriceCents as number);
  }
  let totalCents = 0;
  const items = lines.map((line) => {
    const unitPriceCents = prices.get(line.sku);
    if (!Number.isSafeInteger(unitPriceCents) || (unitPriceCents as number) < 0) {
      throw new PricingError(`no valid unitPriceCents for ${line.sku}`);
    }
    totalCents += line.quantity * (unitPriceCents as number);
    return { sku: line.sku, quantity: line.quantity, unitPriceCents: unitPriceCents as number };
  });
  if (!Number.isSafeInteger(totalCents)) throw new PricingError('the total is out of range');
  return { items, totalCents };
}

/** The order's lines before pricing. */
export function unpriced(lines: readonly OrderLine[]): OrderItem[] {
  return lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unitPriceCents: null }));
}
