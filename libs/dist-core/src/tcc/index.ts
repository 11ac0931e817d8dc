// Participant side: the barrier every Try, Confirm and Cancel handler runs its change through.
export {
  TccBarrier,
  REFUSED_REASON,
  tryReplyPayload,
  phaseTwoReplyPayload,
  type BranchKey,
  type TccBarrierOptions,
  type TccOp,
  type TryResult,
  type TryOutcome,
  type ConfirmOutcome,
  type CancelOutcome,
} from './tcc-barrier.js';
// Coordinator side. Read in this order: the definition (the branches), the machine (what each
// event does), the coordinator (the machine on Postgres, on the engine's skeleton).
export {
  defineTcc,
  type TccDefinition,
  type TccPolicy,
  type TccTransaction,
} from './tcc-definition.js';
export {
  TccCoordinator,
  TccAlreadyBegunError,
  type TccCoordinatorOptions,
} from './tcc-coordinator.js';
export {
  tccBarrierMigrations,
  tccBarrierRetention,
  tccCoordinatorMigrations,
} from './tcc.migrations.js';
// Participant side, for saga and TCC alike: inbox + barrier + reply in one local transaction.
export { BarrierParticipant, type ReplyRoute } from './barrier-participant.js';
