import type { DataSource } from 'typeorm';
import { RecoveryLoop, type RecoveryLoopOptions } from '../recovery/index.js';
import type { SagaOrchestrator } from './saga-orchestrator.js';

export type SagaRecoveryOptions = RecoveryLoopOptions;

/**
 * Calls `orchestrator.tick` in a loop on one DataSource (one order shard), so every instance of
 * the service drives due sagas — its own and those of a crashed instance. Run one per shard;
 * several instances per shard are safe (SKIP LOCKED, leases, compare-and-set).
 */
export class SagaRecovery extends RecoveryLoop {
  constructor(
    orchestrator: SagaOrchestrator,
    dataSource: DataSource,
    options: SagaRecoveryOptions = {},
  ) {
    super(SagaRecovery.name, () => orchestrator.tick(dataSource), options);
  }
}
