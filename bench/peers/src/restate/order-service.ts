/**
 * The order flow on Restate, as its documentation writes a saga: a handler whose every side
 * effect is a journaled `ctx.run`, each compensation pushed to a list before its action, and,
 * on a TerminalError (a participant's "no": not retried), the list run in reverse. The
 * restate-server (a process of its own, its journal under .infra/) drives the handler and
 * replays it after a crash; faults inside a `ctx.run` are retried by it. This process is the
 * deployment it calls (HTTP/2).
 */
// First: the SDK needs it as it loads.
import './promise-with-resolvers.js';
import * as restate from '@restatedev/restate-sdk';
import type { PlaceOrder, PlacedOrder } from '../contracts.js';
import { OrderStore, Participants } from '../order-store.js';
import { onTerminate } from '../http-json.js';

const store = new OrderStore();
const participants = new Participants();

const orders = restate.service({
  name: 'Orders',
  handlers: {
    place: async (ctx: restate.Context, order: PlaceOrder): Promise<PlacedOrder> => {
      const id = ctx.rand.uuidv4();
      await ctx.run('create order', () => store.create(id, order));

      const compensations: (() => Promise<unknown>)[] = [];
      try {
        // A compensation may run for a Try that never happened: release refuses it then.
        compensations.push(() => ctx.run('release stock', () => participants.release(id)));
        const reservation = await ctx.run('reserve stock', async () => {
          const result = await participants.reserve(id, order.items);
          if (result.outcome === 'FAILURE') throw new restate.TerminalError(result.reason);
          return result;
        });

        compensations.push(() => ctx.run('refund payment', () => participants.refund(id)));
        await ctx.run('charge payment', async () => {
          const result = await participants.charge(id, order.customerId, reservation.totalCents);
          if (result.outcome === 'FAILURE') throw new restate.TerminalError(result.reason);
        });

        await ctx.run('confirm stock', () => participants.confirm(id));
        return await ctx.run('complete order', () =>
          store.finish(id, { status: 'COMPLETED', totalCents: reservation.totalCents }),
        );
      } catch (error) {
        if (!(error instanceof restate.TerminalError)) throw error;
        for (const compensation of compensations.reverse()) await compensation();
        // The docs rethrow; here the order's terminal state is the answer the caller waits for.
        return await ctx.run('cancel order', () =>
          store.finish(id, { status: 'CANCELLED', reason: error.message }),
        );
      }
    },
  },
});

await restate.serve({ services: [orders], port: Number(process.env.PEER_PORT) });
onTerminate(() => store.end());
