export type { IdGenerator } from './id-generator.js';
export { Outbox, OUTBOX_CHANNEL } from './outbox.js';
export type { OutboxMessage } from './outbox.js';
export { OutboxRelay } from './outbox-relay.js';
export type { OutboxRelayOptions } from './outbox-relay.js';
export { OutboxRelays, outboxRelaysProvider } from './outbox-relays.js';
export { outboxMigrations, CreateOutbox1795740000100 } from './outbox.migrations.js';
export { readOutboxBacklog } from './outbox-backlog.js';
export type { OutboxBacklog } from './outbox-backlog.js';
