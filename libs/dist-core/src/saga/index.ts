// Read in this order: the definition (a saga's steps), the machine (what each event does), the
// orchestrator (the machine on Postgres, on the engine's skeleton). Test helpers: ./testing.
export {
  defineSaga,
  type SagaDefinition,
  type SagaInstance,
  type SagaPolicy,
} from './saga-definition.js';
export { SagaStateError } from './saga-machine.js';
export {
  SagaOrchestrator,
  SagaAlreadyStartedError,
  SagaNotFoundError,
  type SagaOrchestratorOptions,
} from './saga-orchestrator.js';
export { countParkedSagas } from './saga-store.js';
export { sagaMigrations } from './saga.migrations.js';
