export { InMemoryTccRunner } from './in-memory-tcc-runner.js';
export type {
  FakeTccAnswer,
  FakeTccParticipant,
  InMemoryTccRunnerOptions,
  SentTccCommand,
} from './in-memory-tcc-runner.js';
