export type { IdGenerator } from './id-generator.js';
export { Outbox, OUTBOX_CHANNEL } from './outbox.js';
export type { OutboxMessage } from './outbox.js';
export { OutboxRelay } from './outbox-relay.js';
export type { OutboxRelayOptions } from './outbox-relay.js';
export {
  OutboxRelays,
  outboxRelaysProvider,
  afterCommitPublisherProvider,
} from './outbox.providers.js';
export {
  outboxMigrations,
  outboxRetention,
  CreateOutbox1795740000100,
  AddOutboxRelayAfter1796000000200,
} from './outbox.migrations.js';
export { AfterCommitPublisher, leaveToRelay } from './after-commit-publisher.js';
export type { AfterCommitPublisherOptions } from './after-commit-publisher.js';
export { outboxBacklogCollector, readOutboxBacklog } from './outbox-backlog.js';
export type { OutboxBacklog } from './outbox-backlog.js';
