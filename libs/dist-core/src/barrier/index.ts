// The participant side of both flows: every saga and TCC command a participant answers runs
// through the barrier, in one local transaction with its inbox row, business change and reply.
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
export {
  BarrierParticipant,
  barrierParticipantProvider,
  type ReplyRoute,
} from './barrier-participant.js';
export { commandOrderId } from './command-order-id.js';
