// Two-phase commit on PostgreSQL prepared transactions (strategy "2pc").
// Coordinator side: the definition (the participants and the words prepare, commit, rollback)
// and the coordinator, which is TCC's (README.md says why).
export {
  defineTwoPhaseCommit,
  TWO_PC_OPS,
  type TwoPhaseCommitDefinition,
} from './twopc-definition.js';
export { TwoPhaseCommitCoordinator, type TwoPhaseCommitOptions } from './twopc-coordinator.js';
// Participant side: prepare holds the change in a prepared transaction and votes; commit and
// rollback apply the coordinator's decision, consumed apart from the prepares (each
// participant's `<name>.decisions` topic).
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
