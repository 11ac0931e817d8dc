export {
  handleOnce,
  recordInbox,
  inboxClaimCte,
  countDuplicate,
  DuplicateMessage,
  type InboxEntry,
} from './inbox.js';
export { inboxMigrations, inboxRetention } from './inbox.migrations.js';
