// Two-phase commit on PostgreSQL prepared transactions. The participant side: prepare holds the
// change in a prepared transaction and votes; commit and rollback apply the coordinator's
// decision, consumed apart from the prepares (each participant's `<name>.decisions` topic).
export {
  PreparedTransactionParticipant,
  preparedTransactionParticipantProvider,
  type PreparedTransactionParticipantOptions,
  type TwoPcOutcome,
  type Vote,
} from './prepared-transaction-participant.js';
export { listPrepared, PrepareDeferredError } from './prepared-transactions.js';
export {
  twoPcParticipantMigrations,
  twoPcParticipantRetention,
} from './twopc-participant.migrations.js';
