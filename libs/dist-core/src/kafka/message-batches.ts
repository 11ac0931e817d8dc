import type { KafkaMessage } from 'kafkajs';
import { BatchCommitError, runInBatch } from '../batch/index.js';
import { batchDeferred, batchMessages } from '../metrics/catalog.js';

export interface MessageBatchOptions {
  /** Messages per local transaction, at most (default 32; 1 turns batching off). */
  maxMessages?: number;
  /**
   * How long a batch takes new messages (default 50 ms): the first message's effects wait for
   * the batch's COMMIT, and its locks are held until then.
   */
  maxMs?: number;
  /** `SET LOCAL lock_timeout` of a batch's transactions (default 200 ms; see batch/). */
  lockTimeoutMs?: number;
}

/** What the consumer server lends the batch layer: its two ways of running one message. */
export interface MessageRunner {
  /**
   * One run of the message's handler, with no retry, or null when the message may not join a
   * batch (it does not decode, has no handler, or its handler is not marked `batchable`).
   */
  once(message: KafkaMessage): (() => Promise<void>) | null;
  /** The single-order path: the handler in a transaction of its own, retries, dead letter. */
  alone(message: KafkaMessage): Promise<void>;
  /** False once the partition is revoked or the consumer stops: take nothing more. */
  running(): boolean;
}

/**
 * The batch layer over the single-order path (README in batch/). A partition's messages, in
 * offset order, run in batches of up to `maxMessages` (or `maxMs`), each batch in ONE local
 * transaction per database: every handler's own transaction becomes a SAVEPOINT of it
 * (`inTransaction`), and the batch COMMITs once. A message that fails rolls back to its
 * savepoint only; it, and every later message of its key in the batch (per-key order), then
 * run alone after the batch committed, with the retries and dead letter of the single-order
 * path. If the COMMIT fails, the whole batch runs again alone (the inbox drops what did commit).
 *
 * Calls `finished` with each message done (committed, or dead-lettered), in no particular order;
 * the caller resolves offsets only over a prefix of finished ones. Rejects with the error of a
 * message that could be neither handled nor dead-lettered; what was not finished is redelivered.
 */
export async function consumeInBatches(
  messages: KafkaMessage[],
  runner: MessageRunner,
  options: MessageBatchOptions & { group: string },
  finished: (message: KafkaMessage) => void,
): Promise<void> {
  const maxMessages = options.maxMessages ?? 32;
  const maxMs = options.maxMs ?? 50;
  for (let next = 0; next < messages.length && runner.running();) {
    const started = Date.now();
    const inBatch: KafkaMessage[] = [];
    const later: KafkaMessage[] = [];
    const laterKeys = new Set<string>();
    const deferLater = (message: KafkaMessage, reason: string) => {
      laterKeys.add(keyOf(message));
      later.push(message);
      batchDeferred.inc({ group: options.group, reason });
    };
    try {
      await runInBatch({ lockTimeoutMs: options.lockTimeoutMs }, async () => {
        for (; next < messages.length && inBatch.length + later.length < maxMessages; next++) {
          const taken = inBatch.length + later.length;
          if (!runner.running() || (taken > 0 && Date.now() - started >= maxMs)) break;
          const message = messages[next];
          if (laterKeys.has(keyOf(message))) {
            later.push(message);
            continue;
          }
          const run = runner.once(message);
          if (!run) {
            deferLater(message, 'not_batchable');
            continue;
          }
          try {
            await run();
            inBatch.push(message);
          } catch {
            // Rolled back to its savepoint by its handler's transaction. Its error is seen
            // again, logged and counted, when it runs alone.
            deferLater(message, 'failed');
          }
        }
      });
      batchMessages.observe({ group: options.group }, inBatch.length);
      inBatch.forEach(finished);
    } catch (error) {
      if (!(error instanceof BatchCommitError)) throw error;
      batchDeferred.inc({ group: options.group, reason: 'commit_failed' }, inBatch.length);
      later.unshift(...inBatch);
      later.sort((a, b) => compareOffsets(a.offset, b.offset));
    }
    for (const message of later) {
      if (!runner.running()) return;
      await runner.alone(message);
      finished(message);
    }
  }
}

function keyOf(message: KafkaMessage): string {
  return message.key?.toString('latin1') ?? '';
}

function compareOffsets(a: string, b: string): number {
  const diff = BigInt(a) - BigInt(b);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}
