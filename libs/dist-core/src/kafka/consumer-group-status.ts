import type { Consumer } from 'kafkajs';
import { kafkaAssignedPartitions, type ScrapeCollector } from '../metrics/index.js';

/**
 * Whether this process's consumer is a member of its group, for GET /health. A service whose
 * HTTP side is up but whose consumer has not joined yet (or crashed) accepts requests it cannot
 * carry on: commands and replies would wait in Kafka. Readiness must say so.
 */
export class ConsumerGroupStatus {
  private state: 'not started' | 'joining' | 'joined' | 'stopped' | 'idle' = 'not started';
  private detail = '';
  private partitions: Record<string, number[]> = {};

  /** Up once the consumer joined its group, or when the service subscribes to nothing. */
  get ready(): boolean {
    return this.state === 'joined' || this.state === 'idle';
  }

  /** The partitions of each topic this process consumes since its last join (for metrics). */
  get assignment(): Readonly<Record<string, readonly number[]>> {
    return this.partitions;
  }

  describe(): string {
    return this.detail ? `${this.state}: ${this.detail}` : this.state;
  }

  /** The service has no handlers: nothing to join. */
  markIdle(): void {
    this.state = 'idle';
  }

  /** `logicalTopic` maps the broker's topic names back to the contracts' (see deployment.ts). */
  watch(consumer: Consumer, logicalTopic: (topic: string) => string = (topic) => topic): void {
    this.state = 'joining';
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.state = 'joined';
      this.detail = `${payload.groupId} as ${payload.memberId}`;
      // Metric labels in the contracts' names, as every other metric of a topic has them.
      this.partitions = Object.fromEntries(
        Object.entries(payload.memberAssignment).map(([topic, p]) => [logicalTopic(topic), p]),
      );
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.state = payload.restart ? 'joining' : 'stopped';
      this.detail = payload.error.message;
      this.partitions = {};
    });
    consumer.on(consumer.events.STOP, () => {
      this.state = 'stopped';
      this.partitions = {};
    });
  }
}

/** Which partitions this process consumes: what a rebalance moved shows here. */
export function consumerAssignmentCollector(status: ConsumerGroupStatus): ScrapeCollector {
  return async () => {
    kafkaAssignedPartitions.reset();
    for (const [topic, partitions] of Object.entries(status.assignment)) {
      for (const partition of partitions) {
        kafkaAssignedPartitions.set({ topic, partition: String(partition) }, 1);
      }
    }
  };
}
