import { defineMessages, participant } from '../../kafka/message-catalog.js';
import { defineSaga, type SagaCommand } from '../saga-definition.js';

/**
 * A small order saga used by the saga engine's own tests (unit and integration). The real one
 * lives in the order service; this one has the same shape: two compensatable steps, then a
 * step past the pivot.
 */
export interface ExampleOrderData {
  customerId: string;
  items: { sku: string; quantity: number }[];
  unitPriceCents?: Record<string, number>;
}

const inventory = participant('example.inventory');
const payment = participant('example.payment');

export const EXAMPLE_TOPICS = {
  inventory: inventory.commands,
  payment: payment.commands,
} as const;

/** The example's commands, and each one's reply type (`<command>.reply`, on its sender's topic). */
export const exampleMessages = defineMessages({
  'stock.reserve': inventory.command(),
  'stock.release': inventory.command(),
  'stock.confirm': inventory.command(),
  'payment.charge': payment.command(),
  'payment.refund': payment.command(),
  'payment.settle': payment.command(),
  'stock.reserve.reply': inventory.reply(),
  'stock.release.reply': inventory.reply(),
  'stock.confirm.reply': inventory.reply(),
  'payment.charge.reply': payment.reply(),
  'payment.refund.reply': payment.reply(),
  'payment.settle.reply': payment.reply(),
});

const command = (topic: string, type: string, payload: object): SagaCommand => ({
  topic,
  type,
  payload,
});

export function totalCents(data: ExampleOrderData): number {
  return data.items.reduce((sum, i) => sum + i.quantity * (data.unitPriceCents?.[i.sku] ?? 0), 0);
}

export const exampleOrderSaga = defineSaga<ExampleOrderData>('example-order')
  .step('reserveStock', (s) =>
    s
      .invoke((d) => command(EXAMPLE_TOPICS.inventory, 'stock.reserve', { items: d.items }))
      .withCompensation(() => command(EXAMPLE_TOPICS.inventory, 'stock.release', {}))
      .onSuccess((d, reply: { unitPriceCents: Record<string, number> }) => ({
        ...d,
        unitPriceCents: reply.unitPriceCents,
      })),
  )
  .step('takePayment', (s) =>
    s
      .invoke((d) =>
        command(EXAMPLE_TOPICS.payment, 'payment.charge', {
          customerId: d.customerId,
          amountCents: totalCents(d),
        }),
      )
      .withCompensation((d) =>
        command(EXAMPLE_TOPICS.payment, 'payment.refund', { customerId: d.customerId }),
      )
      .settledBy((d) =>
        command(EXAMPLE_TOPICS.payment, 'payment.settle', { customerId: d.customerId }),
      ),
  )
  .step('confirmStock', (s) =>
    s.invoke(() => command(EXAMPLE_TOPICS.inventory, 'stock.confirm', {})).retriedUntilSuccess(),
  );
