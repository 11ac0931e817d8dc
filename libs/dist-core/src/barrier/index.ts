// The contents page. The barrier (dtm's subtransaction barrier): a branch's try, confirm and
// cancel decided by INSERT … ON CONFLICT rows in the business write's own transaction. The
// participant side of every flow: BarrierParticipant runs a command's inbox row, barrier,
// business change and reply in one local transaction. Reply payload helpers: ./testing.
export { TccBarrier, REFUSED_REASON, type TccOp, type TryResult } from './tcc-barrier.js';
export {
  BarrierParticipant,
  barrierParticipantProvider,
  type ReplyRoute,
} from './barrier-participant.js';
export { commandOrderId } from './command-order-id.js';
