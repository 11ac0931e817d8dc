/**
 * The order flow on DBOS Transact, as its documentation writes one: a workflow function whose
 * every side effect is a step (`DBOS.runStep`), checkpointed in Postgres (this service's own
 * database, DBOS's `dbos` schema beside the orders table), so after a crash DBOS resumes the
 * workflow from its last finished step. The workflow id is the order id: starting it twice
 * runs it once. Steps that fail as faults are retried; a participant's "no" is a result, and
 * the workflow undoes the steps before it, in reverse.
 */
import { randomUUID } from 'node:crypto';
import { DBOS } from '@dbos-inc/dbos-sdk';
import type { PlaceOrder, PlacedOrder } from '../contracts.js';
import { onTerminate, serveJson } from '../http-json.js';
import { OrderStore, Participants } from '../order-store.js';

const store = new OrderStore();
const participants = new Participants();
/** Faults (a 5xx, a refused connection) are retried; the participants' Tries are idempotent. */
const RETRIED = { retriesAllowed: true, maxAttempts: 5, intervalSeconds: 0.05 } as const;

async function placeOrderWorkflow(order: PlaceOrder): Promise<PlacedOrder> {
  const id = DBOS.workflowID!;
  await DBOS.runStep(() => store.create(id, order), { name: 'createOrder' });

  const reservation = await DBOS.runStep(() => participants.reserve(id, order.items), {
    name: 'reserveStock',
    ...RETRIED,
  });
  if (reservation.outcome === 'FAILURE') {
    return DBOS.runStep(
      () => store.finish(id, { status: 'CANCELLED', reason: reservation.reason }),
      {
        name: 'cancelOrder',
      },
    );
  }

  const charge = await DBOS.runStep(
    () => participants.charge(id, order.customerId, reservation.totalCents),
    { name: 'chargePayment', ...RETRIED },
  );
  if (charge.outcome === 'FAILURE') {
    // Compensation, in reverse: only the reservation happened.
    await DBOS.runStep(() => participants.release(id), { name: 'releaseStock', ...RETRIED });
    return DBOS.runStep(() => store.finish(id, { status: 'CANCELLED', reason: charge.reason }), {
      name: 'cancelOrder',
    });
  }

  await DBOS.runStep(() => participants.confirm(id), { name: 'confirmStock', ...RETRIED });
  return DBOS.runStep(
    () => store.finish(id, { status: 'COMPLETED', totalCents: reservation.totalCents }),
    { name: 'completeOrder' },
  );
}

const placeOrder = DBOS.registerWorkflow(placeOrderWorkflow, { name: 'placeOrder' });

DBOS.setConfig({
  name: 'bench-orders',
  systemDatabaseUrl: process.env.PEER_DB_URL,
  logLevel: 'warn',
});
await DBOS.launch();

const server = await serveJson(Number(process.env.PEER_PORT), {
  '/orders': async (order: PlaceOrder) => {
    const handle = await DBOS.startWorkflow(placeOrder, { workflowID: randomUUID() })(order);
    return handle.getResult();
  },
});
onTerminate(async () => {
  server.close();
  await DBOS.shutdown();
  await store.end();
});
