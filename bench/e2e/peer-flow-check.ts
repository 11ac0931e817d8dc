/**
 * Before a peer system is measured: does its flow do what ours does, compensation included?
 * On products and accounts of its own (beside the bench's), it places at once
 *   - 5 orders for a product of 3 units: 3 COMPLETED, 2 CANCELLED OUT_OF_STOCK,
 *   - 2 orders by a customer who cannot pay: CANCELLED INSUFFICIENT_FUNDS, their units released,
 *   - 1 order of an unknown product: CANCELLED UNKNOWN_PRODUCT,
 * probes the participants' idempotency directly (a Try twice moves once; a compensation twice
 * undoes once; a compensation before its Try refuses the Try), then checks conservation on
 * everything. Any difference throws, and the bench stops: a peer whose flow is wrong is not
 * measured.
 */
import { isDeepStrictEqual } from 'node:util';
import { ROUTES, type ChargeResult, type ReserveResult } from '../peers/src/contracts.js';
import { checkConservation, type Initial } from './conservation.js';
import type { PeerFixtures, PeerSystem } from './peer-system.js';

const PRICE = 250;
const SCARCE = 'check-scarce';
const PLENTY = 'check-plenty';
const RICH = 'check-rich';
const POOR = 'check-poor';
/** The check's own products and accounts, beside the bench's. */
const CHECK_STOCK: Record<string, number> = { [SCARCE]: 3, [PLENTY]: 100 };
const CHECK_FUNDS: Record<string, number> = { [RICH]: 1_000_000, [POOR]: PRICE - 1 };

/** What every product and account held at the start, the check's included. */
export function initialFigures(fixtures: PeerFixtures): Initial {
  return {
    stockOf: (sku) => CHECK_STOCK[sku] ?? fixtures.stock,
    balanceOf: (customerId) => CHECK_FUNDS[customerId] ?? fixtures.balanceCents,
  };
}

export async function checkPeerFlow(system: PeerSystem, fixtures: PeerFixtures): Promise<void> {
  const failures: string[] = [];
  const expect = (ok: boolean, what: string) => {
    if (!ok) failures.push(what);
  };
  const [scarce, plenty, rich, poor] = [SCARCE, PLENTY, RICH, POOR];
  const [stock, funds] = [CHECK_STOCK, CHECK_FUNDS];
  await system.addFixtures(
    Object.entries(stock).map(([sku, units]) => ({ sku, stock: units, priceCents: PRICE })),
    Object.entries(funds).map(([customerId, balanceCents]) => ({ customerId, balanceCents })),
  );

  const orders = await Promise.all([
    ...Array.from({ length: 5 }, () =>
      system.place({ customerId: rich, items: [{ sku: scarce, quantity: 1 }] }),
    ),
    ...Array.from({ length: 2 }, () =>
      system.place({ customerId: poor, items: [{ sku: plenty, quantity: 1 }] }),
    ),
    system.place({ customerId: rich, items: [{ sku: 'check-unknown', quantity: 1 }] }),
  ]);
  const reasons = orders
    .map((o) => o.reason ?? o.status)
    .slice(0, 5)
    .sort();
  expect(
    JSON.stringify(reasons) ===
      JSON.stringify(['COMPLETED', 'COMPLETED', 'COMPLETED', 'OUT_OF_STOCK', 'OUT_OF_STOCK']),
    `5 orders for 3 units ended ${reasons.join(', ')}`,
  );
  expect(
    orders.slice(5, 7).every((o) => o.status === 'CANCELLED' && o.reason === 'INSUFFICIENT_FUNDS'),
    `an order the customer cannot pay ended ${orders[5].status} ${orders[5].reason}`,
  );
  expect(
    orders[7].status === 'CANCELLED' && orders[7].reason === 'UNKNOWN_PRODUCT',
    `an order of an unknown product ended ${orders[7].status} ${orders[7].reason}`,
  );
  expect(
    orders.every((o) => o.updatedAt >= o.createdAt && o.createdAt > Date.now() - 600_000),
    'an order without server timestamps',
  );

  // Idempotency, straight at the participants (ids no order uses).
  const twice = async <T>(service: 'inventory' | 'payment', route: string, body: unknown) => {
    const first = await system.callParticipant<T>(service, route, body);
    const second = await system.callParticipant<T>(service, route, body);
    expect(
      isDeepStrictEqual(first, second),
      `${route} twice: ${JSON.stringify(first)}, then ${JSON.stringify(second)}`,
    );
    return first;
  };
  const reserved = await twice<ReserveResult>('inventory', ROUTES.reserve, {
    orderId: 'check-probe-1',
    items: [{ sku: plenty, quantity: 2 }],
  });
  expect(reserved.outcome === 'SUCCESS', `a reserve twice: ${JSON.stringify(reserved)}`);
  await twice('inventory', ROUTES.release, { orderId: 'check-probe-1' });
  const charged = await twice<ChargeResult>('payment', ROUTES.charge, {
    orderId: 'check-probe-1',
    customerId: rich,
    amountCents: 2 * PRICE,
  });
  expect(charged.outcome === 'SUCCESS', `a charge twice: ${JSON.stringify(charged)}`);
  await twice('payment', ROUTES.refund, { orderId: 'check-probe-1' });
  // A compensation before its Try (the Try late or lost): the Try must then change nothing.
  await system.callParticipant('inventory', ROUTES.release, { orderId: 'check-probe-2' });
  const late = await system.callParticipant<ReserveResult>('inventory', ROUTES.reserve, {
    orderId: 'check-probe-2',
    items: [{ sku: plenty, quantity: 1 }],
  });
  expect(late.outcome === 'FAILURE', `a reserve after its release: ${JSON.stringify(late)}`);
  await system.callParticipant('payment', ROUTES.refund, { orderId: 'check-probe-2' });
  const lateCharge = await system.callParticipant<ChargeResult>('payment', ROUTES.charge, {
    orderId: 'check-probe-2',
    customerId: rich,
    amountCents: PRICE,
  });
  expect(
    lateCharge.outcome === 'FAILURE',
    `a charge after its refund: ${JSON.stringify(lateCharge)}`,
  );

  const conservation = checkConservation(await system.snapshot(), initialFigures(fixtures));
  for (const violation of conservation.violations) failures.push(`conservation: ${violation}`);
  const completedHere = conservation.checked.completedOrders;
  expect(completedHere === 3, `${completedHere} COMPLETED orders, 3 expected`);

  if (failures.length > 0) {
    throw new Error(`${system.name}: the flow check failed:\n  ${failures.join('\n  ')}`);
  }
}
