// Two-phase commit (strategy "2pc"). Coordinator side: the definition (the participants and the
// words prepare, commit, rollback) and the coordinator, which is TCC's (README.md says why).
export {
  defineTwoPhaseCommit,
  TWO_PC_OPS,
  type TwoPhaseCommitDefinition,
} from './twopc-definition.js';
export { TwoPhaseCommitCoordinator, type TwoPhaseCommitOptions } from './twopc-coordinator.js';
