export { InMemorySagaRunner } from './in-memory-saga-runner.js';
export type {
  FakeAnswer,
  FakeParticipant,
  InMemorySagaRunnerOptions,
  SentCommand,
} from './in-memory-saga-runner.js';
export {
  exampleMessages,
  exampleOrderSaga,
  totalCents,
  EXAMPLE_TOPICS,
} from './example-order-saga.js';
export type { ExampleOrderData } from './example-order-saga.js';
