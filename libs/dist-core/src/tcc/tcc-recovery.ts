import type { DataSource } from 'typeorm';
import { RecoveryLoop, type RecoveryLoopOptions } from '../recovery/index.js';
import type { TccCoordinator } from './tcc-coordinator.js';

/**
 * Calls `coordinator.tick` in a loop on one DataSource (one order shard): it cancels the
 * transactions whose Trys ran past the deadline and re-sends due Confirms and Cancels — this
 * instance's, and those of an instance that crashed (leases, SKIP LOCKED and compare-and-set
 * make several pollers per shard safe).
 */
export class TccRecovery extends RecoveryLoop {
  constructor(
    coordinator: TccCoordinator<unknown>,
    dataSource: DataSource,
    options: RecoveryLoopOptions = {},
  ) {
    super(TccRecovery.name, () => coordinator.tick(dataSource), options);
  }
}
