export { handleOnce, purgeInbox, recordInbox } from './inbox.js';
export { inboxMigrations, CreateInbox1795740000200 } from './inbox.migrations.js';
