// Read in this order: the definition (a saga's steps), the machine (what each event does), the
// orchestrator (the machine on Postgres, on the engine's skeleton). Test helpers: ./testing.
export { defineSaga, SagaDefinition, SagaDefinitionError } from './saga-definition.js';
export type { SagaCommand } from './saga-definition.js';
export type { SagaInstance, SagaStatus } from './saga-instance.js';
export { SagaStateError } from './saga-machine.js';
export { DEFAULT_SAGA_POLICY, type SagaPolicy } from './saga-policy.js';
export {
  SagaOrchestrator,
  SagaAlreadyStartedError,
  SagaNotFoundError,
  type SagaOrchestratorOptions,
} from './saga-orchestrator.js';
export { countParkedSagas } from './saga-store.js';
export { sagaMigrations } from './saga.migrations.js';
