export { ShardRouter } from './shard-router.js';
export type { Shard, ShardRouterOptions, ScatterGatherOptions } from './shard-router.js';
export { mergeSorted, type MergeOptions } from './merge-sorted.js';
export {
  shardName,
  parseShardUrls,
  shardUrlsDuringMove,
  databaseOf,
  redactPassword,
} from './shard-urls.js';
export {
  rebalance,
  REBALANCE_FENCE_TABLE,
  REBALANCE_LOCK_RESOURCE,
  type RebalanceOptions,
  type RebalanceReport,
  type ShardedTable,
} from './rebalance.js';
