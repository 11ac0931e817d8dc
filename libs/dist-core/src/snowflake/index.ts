export {
  SNOWFLAKE_EPOCH_MS,
  TIMESTAMP_BITS,
  WORKER_ID_BITS,
  SEQUENCE_BITS,
  MAX_WORKER_ID,
  MAX_SEQUENCE,
  IDS_PER_MS,
  LAST_ISSUABLE_MS,
  isValidWorkerId,
} from './snowflake-layout.js';
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
export {
  WorkerIdLease,
  type WorkerIdLeaseOptions,
  WORKER_ID_ENV,
  workerResource,
  pinnedWorkerIdFromEnv,
} from './worker-id-lease.js';
