// For tests that drive the barrier without a participant: the reply each outcome becomes.
export { tryReplyPayload, phaseTwoReplyPayload } from '../tcc-barrier.js';
