import type { Envelope } from '../kafka/index.js';

/**
 * What a participant answers, for every protocol (the reply envelope's payload). FAILURE is a
 * definitive business answer (`reason`: OUT_OF_STOCK); anything else in it is step data (the
 * unit prices) for the flow to keep.
 */
export interface FlowReply {
  outcome: 'SUCCESS' | 'FAILURE';
  reason?: string;
  [field: string]: unknown;
}

/** Why a reply changed nothing: late and duplicate replies are normal, so a result, not an error. */
export type IgnoredReply = 'NOT_AWAITED' | 'FINISHED';

export type ReplyResult = 'APPLIED' | 'UNKNOWN_FLOW' | IgnoredReply;

/** A reply that can never apply (not a reply, or from the wrong participant): a poison message. */
export class FlowReplyError extends Error {
  constructor(envelope: Envelope, problem: string) {
    super(`Reply ${envelope.id} (${envelope.type}) to flow ${envelope.correlationId}: ${problem}`);
    this.name = 'FlowReplyError';
  }
}

export function parseReply(envelope: Envelope): FlowReply {
  const payload = envelope.payload as Partial<FlowReply> | null;
  if (typeof payload !== 'object' || payload === null) {
    throw new FlowReplyError(envelope, 'payload is not an object');
  }
  if (payload.outcome !== 'SUCCESS' && payload.outcome !== 'FAILURE') {
    throw new FlowReplyError(envelope, 'outcome must be SUCCESS or FAILURE');
  }
  if (payload.reason !== undefined && typeof payload.reason !== 'string') {
    throw new FlowReplyError(envelope, 'reason must be a string');
  }
  return payload as FlowReply;
}
