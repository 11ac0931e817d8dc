import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The process's one Prometheus registry. A service is one process, so its metrics are
 * process-wide: the primitives (inbox, Kafka consumer, Redlock, saga, TCC) record into it
 * without a handle being passed to every function that counts something.
 */
export const metricsRegistry = new Registry();

let processMetricsStarted = false;

/**
 * Node's own metrics (CPU, RSS, heap, event-loop lag, GC), once per process: prom-client
 * refuses a second set of the same names.
 */
export function collectProcessMetrics(): void {
  if (processMetricsStarted) return;
  processMetricsStarted = true;
  collectDefaultMetrics({ register: metricsRegistry });
}
