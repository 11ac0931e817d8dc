export type { IdGenerator } from './id-generator.js';
export { Outbox } from './outbox.js';
export type { OutboxMessage } from './outbox.js';
export { OutboxRelay } from './outbox-relay.js';
export type { OutboxRelayOptions } from './outbox-relay.js';
export {
  OutboxRelays,
  outboxRelaysProvider,
  afterCommitPublisherProvider,
} from './outbox.providers.js';
export { outboxMigrations, outboxRetention } from './outbox.migrations.js';
export { AfterCommitPublisher, leaveToRelay, outboxSavepoint } from './after-commit-publisher.js';
export type { AfterCommitPublisherOptions } from './after-commit-publisher.js';
export { outboxBacklogCollector } from './outbox-backlog.js';
