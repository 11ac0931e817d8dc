// Coordinator side. Read in this order: the definition (the branches), the machine (what each
// event does), the coordinator (the machine on Postgres, on the engine's skeleton). The
// participant side is libs/dist-core/src/barrier.
export {
  defineTcc,
  type TccBranch,
  type TccDefinition,
  type TccHooks,
  type TccRoute,
  type TccTransaction,
} from './tcc-definition.js';
export { TccCoordinator, TccAlreadyBegunError } from './tcc-coordinator.js';
export {
  tccBarrierMigrations,
  tccBarrierRetention,
  tccCoordinatorMigrations,
} from './tcc.migrations.js';
