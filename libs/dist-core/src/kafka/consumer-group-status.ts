import type { Consumer } from 'kafkajs';
import { kafkaAssignedPartitions, type ScrapeCollector } from '../metrics/index.js';

type MemberState = 'joining' | 'joined' | 'stopped' | 'idle';

interface Member {
  state: MemberState;
  detail: string;
  partitions: Record<string, number[]>;
}

/**
 * Whether this process's consumers are members of their groups, for GET /health. A service whose
 * HTTP side is up but whose consumer has not joined yet (or crashed) accepts requests it cannot
 * carry on: commands and replies would wait in Kafka. Readiness must say so. A service may run
 * more than one consumer (a 2PC participant's decisions have their own group): ready when all are.
 */
export class ConsumerGroupStatus {
  /** By consumer group; a restarted consumer replaces its group's entry. */
  private readonly members = new Map<string, Member>();

  /** Up once every consumer joined its group (or subscribes to nothing); not before any started. */
  get ready(): boolean {
    const members = [...this.members.values()];
    return members.length > 0 && members.every((m) => m.state === 'joined' || m.state === 'idle');
  }

  /** The partitions of each topic this process consumes since its last join (for metrics). */
  get assignment(): Readonly<Record<string, readonly number[]>> {
    const all: Record<string, number[]> = {};
    for (const { partitions } of this.members.values()) {
      for (const [topic, list] of Object.entries(partitions))
        all[topic] = [...(all[topic] ?? []), ...list];
    }
    return all;
  }

  describe(): string {
    if (this.members.size === 0) return 'not started';
    const describeOne = ({ state, detail }: Member) => (detail ? `${state}: ${detail}` : state);
    if (this.members.size === 1) return describeOne([...this.members.values()][0]);
    return [...this.members].map(([group, m]) => `${group} ${describeOne(m)}`).join('; ');
  }

  /** The consumer of `group` has no handlers: nothing to join. */
  markIdle(group = ''): void {
    this.members.set(group, { state: 'idle', detail: '', partitions: {} });
  }

  /** `logicalTopic` maps the broker's topic names back to the contracts' (see deployment.ts). */
  watch(
    consumer: Consumer,
    logicalTopic: (topic: string) => string = (topic) => topic,
    group = '',
  ): void {
    const member: Member = { state: 'joining', detail: '', partitions: {} };
    this.members.set(group, member);
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      member.state = 'joined';
      member.detail = `${payload.groupId} as ${payload.memberId}`;
      // Metric labels in the contracts' names, as every other metric of a topic has them.
      member.partitions = Object.fromEntries(
        Object.entries(payload.memberAssignment).map(([topic, p]) => [logicalTopic(topic), p]),
      );
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      member.state = payload.restart ? 'joining' : 'stopped';
      member.detail = payload.error.message;
      member.partitions = {};
    });
    consumer.on(consumer.events.STOP, () => {
      member.state = 'stopped';
      member.partitions = {};
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
