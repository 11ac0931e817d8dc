import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from './registry.js';

/**
 * Every metric the library exports, in one place: names, units and labels. Counters and
 * histograms are updated where the event happens; gauges read from Postgres or from the
 * process when Prometheus scrapes (see ServiceMetrics), so they are exact after a restart.
 * The order service adds `orders` and `sagas_parked` (apps/order/src/orders/order-metrics.ts).
 */
const registers = [metricsRegistry];

/** Command sent → its reply applied (or its timeout), per saga step and TCC branch operation. */
export const flowStepDuration = new Histogram({
  name: 'flow_step_duration_seconds',
  help: 'Time from sending a saga step or TCC branch command to applying its outcome',
  labelNames: ['flow', 'step', 'outcome'] as const,
  // Relay + Kafka + participant + relay + Kafka is tens of milliseconds; timeouts are seconds.
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers,
});

export const inboxDuplicatesSkipped = new Counter({
  name: 'inbox_duplicates_skipped_total',
  help: 'Messages the inbox had already handled, skipped without running their handler',
  labelNames: ['consumer'] as const,
  registers,
});

export const deadLetters = new Counter({
  name: 'kafka_dead_letters_total',
  help: 'Messages this consumer wrote to <topic>.dlq, by source topic and why',
  labelNames: ['topic', 'reason'] as const,
  registers,
});

/** The batch layer (kafka/message-batches.ts): how many messages share one COMMIT. */
export const batchMessages = new Histogram({
  name: 'kafka_batch_transaction_messages',
  help: 'Messages committed together by one batch transaction of a consumer',
  labelNames: ['group'] as const,
  buckets: [1, 2, 4, 8, 16, 32, 64, 128],
  registers,
});

export const batchDeferred = new Counter({
  name: 'kafka_batch_deferred_total',
  help: 'Messages a batch left to run alone after its commit, by why: failed, not_batchable, commit_failed',
  labelNames: ['group', 'reason'] as const,
  registers,
});

export const redlockAcquireDuration = new Histogram({
  name: 'redlock_acquire_duration_seconds',
  help: 'Time one Redlock acquire took, retries included, by whether it got the lock',
  labelNames: ['outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers,
});

export const redlockAcquireFailures = new Counter({
  name: 'redlock_acquire_failures_total',
  help: 'Redlock acquires that did not get the lock, by kind of failure',
  labelNames: ['kind'] as const,
  registers,
});

export const outboxUnsent = new Gauge({
  name: 'outbox_unsent_messages',
  help: 'Outbox rows not yet published to Kafka (read at scrape), per database',
  labelNames: ['database'] as const,
  registers,
});

export const outboxOldestUnsentAge = new Gauge({
  name: 'outbox_oldest_unsent_age_seconds',
  help: 'Age of the oldest unpublished outbox row (read at scrape), 0 when none: the relay lag',
  labelNames: ['database'] as const,
  registers,
});

export const kafkaAssignedPartitions = new Gauge({
  name: 'kafka_consumer_assigned_partitions',
  help: "Partitions of each topic assigned to this process's consumer (1 per assigned partition)",
  labelNames: ['topic', 'partition'] as const,
  registers,
});
