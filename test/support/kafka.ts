import { adminCredentials, KafkaClient, type Envelope } from '@app/dist-core/kafka';
import { decodeEnvelope } from '@app/dist-core/kafka/testing';
import type { Consumer, KafkaMessage } from 'kafkajs';

export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

/** Unique per run, so a rerun never reads an earlier run's messages or offsets. */
export function runSuffix(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/**
 * A client of the test broker as admin, the super user: tests create topics and groups of their
 * own, and read and write the flow topics as any service would. Suites of the lib use run-unique
 * topics and the plain names; suites that talk to the test services pass the services'
 * deployment (TEST_DEPLOYMENT).
 */
export function adminKafkaClient(clientId: string, deployment = ''): KafkaClient {
  return new KafkaClient({
    clientId,
    brokers: KAFKA_BROKERS,
    credentials: adminCredentials(),
    deployment,
  });
}

export async function connectKafka(clientId: string, deployment = ''): Promise<KafkaClient> {
  const client = adminKafkaClient(clientId, deployment);
  await client.connect();
  return client;
}

/**
 * Collects every record of `topics` (logical names, in the client's deployment) produced from
 * `start()` on, as a plain consumer (not under test). Only from then: the flow topics are shared with other suites and with `npm run bench`,
 * and a recorder that read their whole history (hundreds of thousands of records after a few
 * benchmark runs) would spend each check decoding it.
 */
export class TopicRecorder {
  readonly records: { topic: string; partition: number; message: KafkaMessage }[] = [];
  private consumer?: Consumer;

  constructor(
    private readonly client: KafkaClient,
    private readonly groupId: string,
  ) {}

  async start(logicalTopics: string[]): Promise<void> {
    const topics = logicalTopics.map((topic) => this.client.topic(topic));
    await this.commitEndOffsets(topics);
    this.consumer = this.client.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: 6000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 100,
    });
    await this.consumer.connect();
    // A topic that did not exist yet has no committed offset: read it from its beginning.
    await this.consumer.subscribe({ topics, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        this.records.push({ topic: this.client.logicalTopic(topic), partition, message });
      },
    });
  }

  /**
   * Commits the topics' current end offsets for this recorder's new group before it joins, so
   * it starts exactly there: no history to read, and no gap while the group forms (a consumer
   * told to start at "latest" would miss what is produced before its partitions are assigned).
   */
  private async commitEndOffsets(topics: string[]): Promise<void> {
    const admin = this.client.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      for (const topic of topics.filter((t) => existing.has(t))) {
        const partitions = await admin.fetchTopicOffsets(topic);
        await admin.setOffsets({
          groupId: this.groupId,
          topic,
          partitions: partitions.map(({ partition, high }) => ({ partition, offset: high })),
        });
      }
    } finally {
      await admin.disconnect();
    }
  }

  of(topic: string): KafkaMessage[] {
    return this.records.filter((r) => r.topic === topic).map((r) => r.message);
  }

  /**
   * The envelopes of `topic`, skipping records that are not envelopes: the flow topics are
   * shared, and other suites put poison messages on them on purpose (dead-letter tests).
   */
  envelopesOf<P = unknown>(topic: string): Envelope<P>[] {
    return this.of(topic).flatMap((message) => {
      try {
        return [decodeEnvelope(message.value) as Envelope<P>];
      } catch {
        return [];
      }
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

/** Polls `condition` every 50 ms until it holds, or fails with `what` after the timeout. */
export async function eventually(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
