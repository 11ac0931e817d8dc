import type { DataSource } from 'typeorm';
import type { ConsumerGroupStatus } from '../kafka/consumer-group-status.js';
import { readOutboxBacklog } from '../outbox/outbox-backlog.js';
import { kafkaAssignedPartitions, outboxOldestUnsentAge, outboxUnsent } from './catalog.js';
import type { ScrapeCollector } from './service-metrics.js';

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

/** Which partitions this process consumes: what a rebalance moved shows here. */
export function consumerAssignmentCollector(status: ConsumerGroupStatus): ScrapeCollector {
  return async () => {
    kafkaAssignedPartitions.reset();
    for (const [topic, partitions] of Object.entries(status.assignment)) {
      for (const partition of partitions) {
        kafkaAssignedPartitions.set({ topic, partition: String(partition) }, 1);
      }
    }
  };
}
