// Where handlers open their transactions (inTransaction), and the batch the Kafka consumer runs
// a partition's messages in (runInBatch; kafka/message-batches.ts).
export { inTransaction, runInBatch, BatchCommitError } from './batch-transaction.js';
export type { BatchTransactionOptions } from './batch-transaction.js';
