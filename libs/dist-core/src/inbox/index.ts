export { handleOnce, recordInbox } from './inbox.js';
export { inboxMigrations, inboxRetention, CreateInbox1795740000200 } from './inbox.migrations.js';
