export {
  inTransaction,
  runInBatch,
  BatchTransaction,
  BatchCommitError,
} from './batch-transaction.js';
export type { BatchTransactionOptions } from './batch-transaction.js';
