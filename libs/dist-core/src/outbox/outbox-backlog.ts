import type { DataSource } from 'typeorm';
import { outboxOldestUnsentAge, outboxUnsent, type ScrapeCollector } from '../metrics/index.js';

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

type NamedDataSource = { name: string; dataSource: DataSource };

/** The outbox backlog and lag of each of the service's databases (every order shard). */
export function outboxBacklogCollector(databases: { all(): NamedDataSource[] }): ScrapeCollector {
  return async () => {
    const backlogs = await Promise.all(
      databases.all().map(async ({ name, dataSource }) => ({
        name,
        ...(await readOutboxBacklog(dataSource)),
      })),
    );
    // Set only once every database answered, so a scrape never sees half the databases.
    for (const { name, unsent, oldestUnsentAgeSeconds } of backlogs) {
      outboxUnsent.set({ database: name }, unsent);
      outboxOldestUnsentAge.set({ database: name }, oldestUnsentAgeSeconds);
    }
  };
}
