export { RecoveryLoop } from './recovery-loop.js';
export type { RecoveryLoopOptions } from './recovery-loop.js';
