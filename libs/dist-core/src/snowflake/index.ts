export { SNOWFLAKE_EPOCH_MS, MAX_WORKER_ID } from './snowflake-layout.js';
export {
  type SnowflakeId,
  type DecodedSnowflakeId,
  isSnowflakeId,
  parseSnowflakeId,
  decodeSnowflakeId,
  composeSnowflakeId,
} from './snowflake-id.js';
export {
  SnowflakeGenerator,
  fixedWorkerId,
  systemClock,
  type Clock,
  type WorkerIdSource,
  type SnowflakeGeneratorOptions,
} from './snowflake.generator.js';
export { snowflakeIdTransformer } from './snowflake-id.transformer.js';
export {
  ClockMovedBackwardsError,
  ClockOutOfRangeError,
  WorkerLeaseLostError,
  NoFreeWorkerIdError,
  InvalidWorkerIdError,
  InvalidSnowflakeIdError,
} from './snowflake.errors.js';
export { WorkerIdLease, type WorkerIdLeaseOptions, workerResource } from './worker-id-lease.js';
