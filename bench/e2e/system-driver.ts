import type { BenchDatabases } from './databases.js';
import type { Outcome } from './closed-loop.js';
import { post, type Fixtures } from './fixtures.js';
import type { Strategy } from './options.js';

interface Waiter {
  resolve: (outcome: Outcome) => void;
  reject: (error: Error) => void;
  deadline: number;
}

interface TerminalRow {
  id: string;
  status: 'COMPLETED' | 'CANCELLED';
  created_at: Date;
  updated_at: Date;
}

/** An order not terminal this long after it was placed counts as an error (the contract: 30 s). */
const GIVE_UP_MS = 60_000;

/**
 * Learns when orders become terminal by reading their shards directly, one query per shard per
 * tick for all the orders in flight: far cheaper than a GET per order, and it reads the server's
 * own createdAt and updatedAt. Its queries are commits on the order shards too, so it counts
 * them, and the report subtracts them.
 */
export class CompletionTracker {
  private readonly waiting = new Map<string, Waiter>();
  private timer?: NodeJS.Timeout;
  private polling = false;
  /** Queries issued so far (each one is a commit on an order shard). */
  queries = 0;

  constructor(
    private readonly databases: BenchDatabases,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  terminal(id: string): Promise<Outcome> {
    return new Promise((resolve, reject) =>
      this.waiting.set(id, { resolve, reject, deadline: Date.now() + GIVE_UP_MS }),
    );
  }

  private async poll(): Promise<void> {
    if (this.polling || this.waiting.size === 0) return;
    this.polling = true;
    try {
      const byShard = new Map<number, string[]>();
      for (const id of this.waiting.keys()) {
        const shard = this.databases.shardIndexOf(id);
        byShard.set(shard, [...(byShard.get(shard) ?? []), id]);
      }
      await Promise.all(
        [...byShard].map(async ([shard, ids]) => {
          this.queries += 1;
          const { rows } = await this.databases.orderShards[shard].query<TerminalRow>(
            `SELECT id::text, status, created_at, updated_at FROM orders
             WHERE id = ANY($1::bigint[]) AND status <> 'PENDING'`,
            [ids],
          );
          for (const row of rows) {
            const waiter = this.waiting.get(row.id);
            this.waiting.delete(row.id);
            waiter?.resolve({
              startedAt: row.created_at.getTime(),
              endedAt: row.updated_at.getTime(),
              completed: row.status === 'COMPLETED',
            });
          }
        }),
      );
      const now = Date.now();
      for (const [id, waiter] of this.waiting) {
        if (waiter.deadline > now) continue;
        this.waiting.delete(id);
        waiter.reject(new Error(`order ${id} not terminal after ${GIVE_UP_MS / 1000} s`));
      }
    } finally {
      this.polling = false;
    }
  }
}

/** One order of one line through the running system: POST /orders, then wait until terminal. */
export function systemWork(
  orderUrl: string,
  strategy: Strategy,
  fixtures: Fixtures,
  tracker: CompletionTracker,
): (worker: number) => Promise<Outcome> {
  return async (worker) => {
    const slot = worker % fixtures.customers.length;
    const customerId = fixtures.customers[slot];
    // Placed with the customer's own token, as a real client would.
    const order = await post<{ id: string }>(
      `${orderUrl}/orders`,
      { customerId, items: [{ sku: fixtures.skus[slot], quantity: 1 }], strategy },
      { customerId },
    );
    return tracker.terminal(order.id);
  };
}
