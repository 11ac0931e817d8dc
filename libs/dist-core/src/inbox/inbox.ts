import type { DataSource, EntityManager } from 'typeorm';
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

/**
 * Runs a message handler at most once per consumer: the inbox row, the handler's writes and
 * the outbox rows it enqueues commit together, or not at all (and the redelivery runs it
 * again). Kafka delivers at least once and the relay publishes at least once; this turns both
 * into exactly-once effects. `consumer` names the handler, e.g. `inventory:inventory.reserve`.
 */
export async function handleOnce(
  dataSource: DataSource,
  consumer: string,
  envelope: Envelope,
  fn: (manager: EntityManager) => Promise<void>,
): Promise<'handled' | 'duplicate'> {
  return dataSource.transaction(async (manager) => {
    if (!(await recordInbox(manager, consumer, envelope.id))) {
      inboxDuplicatesSkipped.inc({ consumer });
      return 'duplicate';
    }
    await fn(manager);
    return 'handled';
  });
}
