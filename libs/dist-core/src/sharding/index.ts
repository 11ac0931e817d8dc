// The contents page: the ring over the shards' DataSources, shard names, the URL list during a
// move, and the row mover behind `npm run shards:rebalance`.
export { ShardRouter } from './shard-router.js';
export type { Shard, ShardRouterOptions, ScatterGatherOptions } from './shard-router.js';
export { shardName, shardUrlsDuringMove } from './shard-urls.js';
export {
  rebalance,
  type RebalanceOptions,
  type RebalanceReport,
  type ShardedTable,
} from './rebalance.js';
