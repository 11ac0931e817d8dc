import {
  INVENTORY_REASONS,
  PAYMENT_REASONS,
  type BusinessReason,
  type OrderLine,
  type PricedLine,
} from '@app/order-flow-api';

/** The order's rules, in one place: what an order is, and how its lines are priced. */

export const ORDER_STRATEGIES = ['saga', 'tcc', '2pc'] as const;
export type OrderStrategy = (typeof ORDER_STRATEGIES)[number];

/** PENDING, then exactly one of the two terminal statuses, never changing again. */
export const ORDER_STATUSES = ['PENDING', 'COMPLETED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Why an order was cancelled: a participant's business answer, or no answer in time. */
export const CANCEL_REASONS = [...INVENTORY_REASONS, ...PAYMENT_REASONS, 'TIMEOUT'] as const;
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
 * unitPriceCents}], totalCents`). The reply must price exactly the order's lines — the same
 * SKUs, each once, with the order's quantities — at positive whole-cent prices, and its total
 * must be Σ quantity × unitPriceCents. Anything else is not a price list for this order (a
 * participant bug or a forged reply), and the order must neither complete at it nor ask payment
 * for it: the reply is dead-lettered and the order waits for a real answer or its timeout.
 */
export function priceOrder(lines: readonly OrderLine[], reply: unknown): PricedOrder {
  const { items: priced, totalCents: quoted } = (reply ?? {}) as {
    items?: unknown;
    totalCents?: unknown;
  };
  if (!Array.isArray(priced)) throw new PricingError('no items');
  if (priced.length !== lines.length) {
    throw new PricingError(`${priced.length} priced lines for an order of ${lines.length}`);
  }
  const quantities = new Map(lines.map((line) => [line.sku, line.quantity]));
  const prices = new Map<string, number>();
  for (const [index, entry] of (priced as unknown[]).entries()) {
    const { sku, quantity, unitPriceCents } = (entry ?? {}) as Partial<
      Record<keyof PricedLine, unknown>
    >;
    if (typeof sku !== 'string' || !quantities.has(sku) || prices.has(sku)) {
      throw new PricingError(`line ${index} is not one of the order's lines`);
    }
    if (quantity !== quantities.get(sku)) {
      throw new PricingError(`line ${index} has another quantity than the order's`);
    }
    if (!isPositiveCents(unitPriceCents)) {
      throw new PricingError(`line ${index} has no positive whole unitPriceCents`);
    }
    prices.set(sku, unitPriceCents);
  }
  let totalCents = 0;
  const items = lines.map((line) => {
    const unitPriceCents = prices.get(line.sku)!;
    totalCents += line.quantity * unitPriceCents;
    return { sku: line.sku, quantity: line.quantity, unitPriceCents };
  });
  if (!isPositiveCents(totalCents)) throw new PricingError('the total is out of range');
  if (quoted !== totalCents) {
    throw new PricingError('totalCents is not the sum of quantity × unitPriceCents');
  }
  return { items, totalCents };
}

function isPositiveCents(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** The order's lines before pricing. */
export function unpriced(lines: readonly OrderLine[]): OrderItem[] {
  return lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unitPriceCents: null }));
}
