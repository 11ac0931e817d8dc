export { RetentionPurge } from './retention-purge.js';
export type { RetentionPurgeOptions, RetentionRule, RetentionTarget } from './retention-purge.js';
