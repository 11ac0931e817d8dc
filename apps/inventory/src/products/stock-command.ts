import type { OrderLine } from '@app/order-flow-api';
import { InvalidMessageError, type Envelope } from '@app/dist-core/kafka';
import { SKU_PATTERN, SKU_RULE } from './sku.js';

/** CONTRACT.md's limits on an order's lines, enforced again here: a command is input too. */
export const MAX_LINES = 100;
export const MAX_LINE_QUANTITY = 10_000;

/** The lines of a reserve (try) command: 1–100 distinct SKUs, each quantity 1–10000. */
export function commandLines(envelope: Envelope<unknown>): OrderLine[] {
  const { items } = envelope.payload as { items?: unknown };
  if (!Array.isArray(items) || items.length < 1 || items.length > MAX_LINES) {
    throw new InvalidMessageError(`items must be an array of 1-${MAX_LINES} lines`);
  }
  const seen = new Set<string>();
  return items.map((item: unknown, index) => {
    const { sku, quantity } = (item ?? {}) as { sku?: unknown; quantity?: unknown };
    if (typeof sku !== 'string' || !SKU_PATTERN.test(sku)) {
      throw new InvalidMessageError(`items.${index}.sku must be ${SKU_RULE}`);
    }
    if (seen.has(sku)) throw new InvalidMessageError(`items.${index}.sku ${sku} is repeated`);
    seen.add(sku);
    if (
      typeof quantity !== 'number' ||
      !Number.isInteger(quantity) ||
      quantity < 1 ||
      quantity > MAX_LINE_QUANTITY
    ) {
      throw new InvalidMessageError(
        `items.${index}.quantity must be an integer from 1 to ${MAX_LINE_QUANTITY}`,
      );
    }
    return { sku, quantity };
  });
}
