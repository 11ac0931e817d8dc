import { authorization } from '../../support/tokens.js';
import type { Random } from './random.js';
import type { Fleet } from './fleet.js';
import type { Timeline } from './timeline.js';

export interface Product {
  sku: string;
  priceCents: number;
  stock: number;
}

export interface Customer {
  customerId: string;
  balanceCents: number;
}

export interface OrderRequest {
  customerId: string;
  items: { sku: string; quantity: number }[];
  strategy: 'saga' | 'tcc' | '2pc';
}

/** One order a client meant to place: its body, its key, and the id once the API accepted it. */
export interface OrderIntent {
  key: string;
  request: OrderRequest;
  attempts: number;
  orderId?: string;
  /** A 4xx: the API refused a valid request (or misread its idempotency key). */
  refused?: string;
}

/**
 * What the clients buy from: a few contended products whose stock runs out during the run (so
 * OUT_OF_STOCK happens and concurrent reservations fight over the last units), a few plentiful
 * ones, rich customers, a customer who can afford a few orders and then not, and customers who
 * can afford nothing (INSUFFICIENT_FUNDS compensations throughout).
 */
export function makeCatalog(
  random: Random,
  run: string,
): { products: Product[]; customers: Customer[] } {
  const products: Product[] = [];
  for (let i = 0; i < 3; i++) {
    products.push({
      sku: `chaos-${run}-scarce-${i}`,
      priceCents: random.int(100, 2_000),
      stock: random.int(40, 90),
    });
  }
  for (let i = 0; i < 3; i++) {
    products.push({
      sku: `chaos-${run}-plenty-${i}`,
      priceCents: random.int(50, 5_000),
      stock: 1_000_000,
    });
  }
  const customers: Customer[] = [];
  for (let i = 0; i < 8; i++)
    customers.push({ customerId: `chaos-${run}-rich-${i}`, balanceCents: 100_000_000 });
  customers.push({ customerId: `chaos-${run}-modest`, balanceCents: 30_000 });
  for (let i = 0; i < 3; i++)
    customers.push({ customerId: `chaos-${run}-poor-${i}`, balanceCents: random.int(0, 49) });
  return { products, customers };
}

/** How long a client waits for its order's outcome: the order service's flow timeout. */
const OUTCOME_WAIT_MS = 15_000;

/** Answers the services may give while a fault is going on: worth the same request again. */
const TRANSIENT_STATUSES = new Set([500, 502, 503, 504]);

/**
 * Clients placing orders continuously, each request with an Idempotency-Key. A POST that fails
 * because the order service is down (refused, cut, timed out, 5xx) is sent again with the same
 * key until it is answered: the API may have accepted it before the failure, and the same key
 * then returns that order instead of placing a second one. So every order the API may have
 * accepted ends up known here, and the checks can demand that each one exists and is terminal.
 */
export class Workload {
  readonly intents: OrderIntent[] = [];
  private placing = false;
  private readonly clients: Promise<void>[] = [];
  private retryUntil = Number.POSITIVE_INFINITY;

  constructor(
    private readonly random: Random,
    private readonly fleet: Fleet,
    private readonly timeline: Timeline,
    private readonly catalog: { products: Product[]; customers: Customer[] },
    private readonly run: string,
  ) {}

  start(clientCount: number): void {
    this.placing = true;
    for (let c = 0; c < clientCount; c++) this.clients.push(this.client(c, this.random.fork()));
  }

  /** No new orders; the ones in flight keep retrying until answered or `deadline`. */
  async stop(deadline: number): Promise<void> {
    this.placing = false;
    this.retryUntil = deadline;
    await Promise.all(this.clients);
  }

  private async client(index: number, random: Random): Promise<void> {
    for (let n = 0; this.placing; n++) {
      const intent: OrderIntent = {
        key: `chaos-${this.run}-${index}-${n}`,
        request: this.order(random),
        attempts: 0,
      };
      this.intents.push(intent);
      await this.place(intent, random);
      if (intent.orderId) await this.awaitOutcome(intent.orderId, intent.request.customerId);
      await sleep(random.int(50, 250));
    }
  }

  /**
   * A client waits for its order's outcome (up to a flow's timeout) before it places the next:
   * the load then follows what the system can do, as real users' would. Clients that fire
   * without waiting soon outrun a loaded 2-core machine, and the retries of a backlog that
   * only grows make it grow faster; that is an overload test, not this one.
   */
  private async awaitOutcome(orderId: string, customerId: string): Promise<void> {
    const deadline = Date.now() + OUTCOME_WAIT_MS;
    while (Date.now() < deadline) {
      try {
        // The customer follows its own order, with its own token.
        const response = await fetch(`${this.fleet.url('order')}/orders/${orderId}`, {
          headers: await authorization({ customerId }),
          signal: AbortSignal.timeout(5_000),
        });
        const { status } = (await response.json()) as { status?: string };
        if (status === 'COMPLETED' || status === 'CANCELLED') return;
      } catch {
        // the order service is down: keep waiting until the deadline
      }
      await sleep(300);
    }
  }

  private order(random: Random): OrderRequest {
    const { products, customers } = this.catalog;
    const lines = random.sample(products, random.chance(0.6) ? 1 : random.int(2, 3));
    return {
      customerId: random.pick(customers).customerId,
      items: lines.map((p) => ({ sku: p.sku, quantity: random.int(1, 3) })),
      strategy: random.pick(['saga', 'tcc', '2pc'] as const),
    };
  }

  private async place(intent: OrderIntent, random: Random): Promise<void> {
    for (;;) {
      intent.attempts++;
      let outcome: string;
      try {
        const response = await fetch(`${this.fleet.url('order')}/orders`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': intent.key,
            // Placed by its customer, as a shop's front end would on its behalf.
            ...(await authorization({ customerId: intent.request.customerId })),
          },
          body: JSON.stringify(intent.request),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await response.json()) as { id?: string };
        if (response.status === 202 && typeof body.id === 'string') {
          intent.orderId = body.id;
          return;
        }
        outcome = `${response.status} ${JSON.stringify(body).slice(0, 200)}`;
        if (!TRANSIENT_STATUSES.has(response.status)) {
          intent.refused = outcome;
          return;
        }
      } catch (error) {
        outcome = (error as Error).message;
      }
      if (Date.now() > this.retryUntil) {
        this.timeline.log(
          `!! order ${intent.key} still unanswered after ${intent.attempts} attempts: ${outcome}`,
        );
        return;
      }
      await sleep(random.int(300, 1_000));
    }
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
