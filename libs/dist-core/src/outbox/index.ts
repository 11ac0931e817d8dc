// The contents page: Outbox.enqueue writes a message in the business transaction; the
// after-commit publisher sends it once that commits, the relay whatever the publisher missed.
export type { IdGenerator } from './id-generator.js';
export { Outbox } from './outbox.js';
export type { OutboxMessage } from './outbox.js';
export { OutboxRelay } from './outbox-relay.js';
export {
  OutboxRelays,
  outboxRelaysProvider,
  afterCommitPublisherProvider,
} from './outbox.providers.js';
export { outboxMigrations, outboxRetention } from './outbox.migrations.js';
export { AfterCommitPublisher, leaveToRelay, outboxSavepoint } from './after-commit-publisher.js';
export { outboxBacklogCollector } from './outbox-backlog.js';
