/**
 * The direct-calls baseline (dtm's): the order service calls the participants over HTTP, one
 * after another, and undoes what it did when one says no. No outbox, inbox, saga log or TCC:
 * nothing records where an order is, so a crash mid-flow leaves it PENDING with its units
 * reserved and, perhaps, its money taken. What the flow costs without anything that makes it
 * survive a crash: the reference point for the machinery's price.
 */
import { randomUUID } from 'node:crypto';
import type { PlaceOrder } from '../contracts.js';
import { onTerminate, serveJson } from '../http-json.js';
import { OrderStore, Participants } from '../order-store.js';

const store = new OrderStore();
const participants = new Participants();

/** A call that failed as a fault (not a business "no") is tried again a few times. */
async function retrying<T>(call: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

async function placeOrder(order: PlaceOrder) {
  const id = randomUUID();
  await store.create(id, order);
  const reservation = await retrying(() => participants.reserve(id, order.items));
  if (reservation.outcome === 'FAILURE') {
    return store.finish(id, { status: 'CANCELLED', reason: reservation.reason });
  }
  const charge = await retrying(() =>
    participants.charge(id, order.customerId, reservation.totalCents),
  );
  if (charge.outcome === 'FAILURE') {
    await retrying(() => participants.release(id));
    return store.finish(id, { status: 'CANCELLED', reason: charge.reason });
  }
  await retrying(() => participants.confirm(id));
  return store.finish(id, { status: 'COMPLETED', totalCents: reservation.totalCents });
}

const server = await serveJson(Number(process.env.PEER_PORT), { '/orders': placeOrder });
onTerminate(async () => {
  server.close();
  await store.end();
});
