import type { DataSource } from 'typeorm';

export interface OutboxBacklog {
  /** Rows not yet published. */
  unsent: number;
  /** Age of the oldest of them (0 when none): how far behind the relay is. */
  oldestUnsentAgeSeconds: number;
}

// Both through the partial index on unsent rows: as cheap as the backlog is small.
const BACKLOG_SQL = `
  SELECT
    (SELECT count(*) FROM outbox WHERE sent_at IS NULL)::int AS unsent,
    COALESCE((SELECT extract(epoch FROM now() - created_at) FROM outbox
               WHERE sent_at IS NULL ORDER BY id LIMIT 1), 0)::float8 AS oldest_age`;

/** What is waiting in one database's outbox, for the metrics. */
export async function readOutboxBacklog(dataSource: DataSource): Promise<OutboxBacklog> {
  const [row] = (await dataSource.query(BACKLOG_SQL)) as { unsent: number; oldest_age: number }[];
  return { unsent: row.unsent, oldestUnsentAgeSeconds: Math.max(0, row.oldest_age) };
}
