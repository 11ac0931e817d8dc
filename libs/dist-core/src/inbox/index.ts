export { handleOnce, recordInbox } from './inbox.js';
export { inboxMigrations, inboxRetention } from './inbox.migrations.js';
