import {
  orderFlowMessages,
  REASONS_BY_PARTICIPANT,
  type ParticipantReply,
} from '@app/order-flow-api';
import { InvalidMessageError, type Envelope } from '@app/dist-core/kafka';
import { REFUSED_REASON } from '@app/dist-core/barrier';

/**
 * A reply's outcome and reason, checked before any engine sees it. A FAILURE's reason becomes
 * the order's `reason`, its history and the `orders` metric's label, so it must be one of the
 * words the contract knows for that participant (or the barrier's REFUSED): free text from a
 * reply must never reach a label, and an unknown reason is no business answer anyway. A reply
 * that fails is dead-lettered; the order then waits for a real answer or its timeout.
 * (The priced lines of an inventory SUCCESS are checked where they are used: `priceOrder`.)
 */
export function checkParticipantReply(envelope: Envelope): ParticipantReply {
  const participant = orderFlowMessages.participantOf(envelope.type);
  const reasons = participant === undefined ? undefined : REASONS_BY_PARTICIPANT[participant];
  if (reasons === undefined) throw invalid(envelope, 'its type names no participant');
  const payload = envelope.payload as Partial<Record<keyof ParticipantReply, unknown>>;
  const { outcome, reason } = payload;
  if (outcome === 'SUCCESS') {
    if (reason !== undefined) throw invalid(envelope, 'a SUCCESS carries no reason');
  } else if (outcome === 'FAILURE') {
    const known = reason === REFUSED_REASON || reasons.some((r) => r === reason);
    if (!known) throw invalid(envelope, `a FAILURE of ${participant} needs one of its reasons`);
  } else {
    throw invalid(envelope, 'outcome must be SUCCESS or FAILURE');
  }
  return payload as ParticipantReply;
}

function invalid(envelope: Envelope, problem: string): InvalidMessageError {
  return new InvalidMessageError(`Reply ${envelope.id} (${envelope.type}): ${problem}`);
}
