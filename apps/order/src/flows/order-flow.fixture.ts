import type { OrderFlowInput } from './order-flow-steps.js';

/** The order the three flow specs run: two lines, priced by the fake inventory below. */
export const ORDER_ID = '914165721940434944';
export const input: OrderFlowInput = {
  orderId: ORDER_ID,
  customerId: 'c-1',
  items: [
    { sku: 'A', quantity: 2 },
    { sku: 'B', quantity: 1 },
  ],
};
const PRICES: Record<string, number> = { A: 1250, B: 399 };

/** Inventory's SUCCESS to a reserve, Try or prepare: the command's lines priced (total 2899). */
export const priced = (command: { payload: object }) => {
  const items = (command.payload as OrderFlowInput).items.map((line) => ({
    ...line,
    unitPriceCents: PRICES[line.sku],
  }));
  const totalCents = items.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  return { outcome: 'SUCCESS' as const, items, totalCents };
};
export const ok = () => ({ outcome: 'SUCCESS' as const });
