// For tests that drive the barrier without a participant: the reply each outcome becomes.
export { tryReplyPayload, phaseTwoReplyPayload } from '../tcc-barrier.js';
// For the specs of a participant's command checks.
export { commandEnvelope, invalidMessageText } from './participant-commands.js';
