// The contents page: ids, their generator and its leased worker id. The errors a generator
// throws (clock out of range or moved back, no free worker id) are faults to log, not to catch.
export { SNOWFLAKE_EPOCH_MS, MAX_WORKER_ID } from './snowflake-layout.js';
export {
  type SnowflakeId,
  isSnowflakeId,
  decodeSnowflakeId,
  composeSnowflakeId,
} from './snowflake-id.js';
export {
  SnowflakeGenerator,
  fixedWorkerId,
  systemClock,
  type Clock,
} from './snowflake.generator.js';
export { WorkerIdLease } from './worker-id-lease.js';
export { WorkerLeaseLostError } from './snowflake.errors.js';
