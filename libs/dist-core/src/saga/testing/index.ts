export { InMemorySagaRunner } from './in-memory-saga-runner.js';
export type {
  FakeAnswer,
  FakeParticipant,
  InMemorySagaRunnerOptions,
  SentCommand,
} from './in-memory-saga-runner.js';
