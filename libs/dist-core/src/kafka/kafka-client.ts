import { Logger } from '@nestjs/common';
import {
  Kafka,
  logLevel,
  type Admin,
  type ITopicConfig,
  type LogEntry,
  type Producer,
} from 'kafkajs';

export interface KafkaClientOptions {
  clientId: string;
  brokers: string[];
}

/** kafkajs logs through Nest's logger, warnings and errors only: its info lines are noise. */
function nestLogCreator() {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const logger = new Logger(`kafkajs:${namespace}`);
      const text = `${log.message}${log.broker ? ` (broker ${log.broker})` : ''}`;
      if (level === logLevel.ERROR) logger.error(text);
      else if (level === logLevel.WARN) logger.warn(text);
    };
}

/**
 * One Kafka connection per process: the producer every publisher shares, and an admin client
 * for creating topics and for the health check. Consumers are made from `kafka` by the
 * consumer server.
 */
export class KafkaClient {
  readonly kafka: Kafka;
  readonly producer: Producer;
  private readonly admin: Admin;

  constructor(options: KafkaClientOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: logLevel.WARN,
      logCreator: nestLogCreator,
      connectionTimeout: 3000,
      retry: { initialRetryTime: 200, retries: 8 },
    });
    // Topics are created explicitly (ensureTopics), never by a producer's first send:
    // an auto-created topic gets broker defaults nobody chose.
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
    this.admin = this.kafka.admin({ retry: { retries: 1 } });
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
  }

  /**
   * Creates the topics that do not exist yet and waits until each partition has a leader.
   * Subscribing to a topic a fresh broker does not host yet fails with "This server does not
   * host this topic-partition", so every service runs this before it subscribes.
   */
  async ensureTopics(topics: ITopicConfig[]): Promise<void> {
    if (topics.length === 0) return;
    const existing = new Set(await this.admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic.topic));
    if (missing.length === 0) return;
    await this.admin.createTopics({ topics: missing, waitForLeaders: true });
  }

  /** Health: the cluster answers a metadata request. */
  async ping(): Promise<{ brokers: number }> {
    const cluster = await this.admin.describeCluster();
    return { brokers: cluster.brokers.length };
  }

  async disconnectProducer(): Promise<void> {
    await this.producer.disconnect();
  }

  async disconnectAdmin(): Promise<void> {
    await this.admin.disconnect();
  }
}
