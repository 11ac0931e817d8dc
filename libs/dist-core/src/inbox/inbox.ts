import type { DataSource, EntityManager } from 'typeorm';
import { inTransaction } from '../batch/index.js';
import type { Envelope } from '../kafka/index.js';
import { inboxDuplicatesSkipped } from '../metrics/catalog.js';

/**
 * Records that `consumer` has taken message `messageId`, in the caller's transaction:
 * true the first time, false for a duplicate. "Change instead of check": the primary key
 * decides, so two concurrent deliveries cannot both pass (the second INSERT waits for the
 * first transaction and then finds the row, or inserts it if that one rolled back).
 */
export async function recordInbox(
  manager: EntityManager,
  consumer: string,
  messageId: string,
): Promise<boolean> {
  const rows: unknown[] = await manager.query(
    `INSERT INTO inbox (consumer, message_id) VALUES ($1, $2)
     ON CONFLICT (consumer, message_id) DO NOTHING
     RETURNING 1`,
    [consumer, messageId],
  );
  return rows.length === 1;
}

/** A message as the inbox records it: which handler (consumer) took which message id. */
export interface InboxEntry {
  consumer: string;
  messageId: string;
}

/**
 * `recordInbox`'s INSERT as a CTE named `inbox_claim`, for a handler that sends it with its own
 * first statement — one round trip and one statement fewer per message (the participants'
 * barrier does: `TccBarrier`'s `inbox` option). `$<first>` is the consumer, `$<first + 1>` the
 * message id; a row in `inbox_claim` means the message is new. The statement must change
 * nothing without that row, and the handler then throws `DuplicateMessage`, so its transaction
 * rolls back as a duplicate's does in `handleOnce`.
 */
export function inboxClaimCte(first: number): string {
  return `inbox_claim AS (
    INSERT INTO inbox (consumer, message_id) VALUES ($${first}, $${first + 1})
    ON CONFLICT (consumer, message_id) DO NOTHING RETURNING 1
  )`;
}

/** Thrown by a handler whose `inbox_claim` found the message already taken. */
export class DuplicateMessage extends Error {
  constructor(readonly entry: InboxEntry) {
    super(`${entry.consumer} already took message ${entry.messageId}`);
    this.name = 'DuplicateMessage';
  }
}

/** Counts a duplicate found by `inbox_claim`, as `handleOnce` counts its own. */
export function countDuplicate(entry: InboxEntry): void {
  inboxDuplicatesSkipped.inc({ consumer: entry.consumer });
}

/**
 * Runs a message handler at most once per consumer: the inbox row, the handler's writes and
 * the outbox rows it enqueues commit together, or not at all (and the redelivery runs it
 * again). Kafka delivers at least once and the relay publishes at least once; this turns both
 * into exactly-once effects. `consumer` names the handler, e.g. `inventory:inventory.reserve`.
 * Inside a batch of messages (batch/), the transaction is a savepoint of the batch's.
 */
export async function handleOnce(
  dataSource: DataSource,
  consumer: string,
  envelope: Envelope,
  fn: (manager: EntityManager) => Promise<void>,
): Promise<'handled' | 'duplicate'> {
  return inTransaction(dataSource, async (manager) => {
    if (!(await recordInbox(manager, consumer, envelope.id))) {
      inboxDuplicatesSkipped.inc({ consumer });
      return 'duplicate';
    }
    await fn(manager);
    return 'handled';
  });
}
