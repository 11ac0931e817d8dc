import { Logger } from '@nestjs/common';
import {
  Kafka,
  logLevel,
  type Admin,
  type ITopicConfig,
  type LogEntry,
  type Producer,
  type ProducerBatch,
  type ProducerRecord,
} from 'kafkajs';
import { saslOptions, type KafkaCredentials } from './credentials.js';
import { logicalTopic, physicalGroup, physicalTopic } from './deployment.js';

export interface KafkaClientOptions {
  clientId: string;
  brokers: string[];
  /** The broker accepts no connection without them (SASL/SCRAM-SHA-512). */
  credentials: KafkaCredentials;
  /** Prefixes every topic and consumer group on the broker (see deployment.ts). Default ''. */
  deployment?: string;
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
 * A producer that sends each record to its topic in `deployment`: every publisher (the outbox's
 * after-commit publisher and relay, dead letters) names the contract's topic and this is the
 * one place that turns it into the broker's.
 */
function deploymentProducer(producer: Producer, deployment: string): Producer {
  if (deployment === '') return producer;
  const topic = (name: string): string => physicalTopic(deployment, name);
  return Object.assign(Object.create(producer) as Producer, {
    send: (record: ProducerRecord) => producer.send({ ...record, topic: topic(record.topic) }),
    sendBatch: (batch: ProducerBatch) =>
      producer.sendBatch({
        ...batch,
        topicMessages: batch.topicMessages?.map((t) => ({ ...t, topic: topic(t.topic) })),
      }),
  });
}

/**
 * One Kafka connection per process: the producer every publisher shares, and an admin client
 * for creating topics and for the health check. Consumers are made from `kafka` by the
 * consumer server.
 *
 * Topics and groups are given by their logical names (the contracts'); the client and the
 * consumer server place them in the deployment (`physicalTopic`, `physicalGroup`). `kafka` is
 * kafkajs itself and takes the broker's names.
 */
export class KafkaClient {
  readonly kafka: Kafka;
  readonly producer: Producer;
  readonly deployment: string;
  private readonly admin: Admin;

  constructor(options: KafkaClientOptions) {
    this.deployment = options.deployment ?? '';
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      sasl: saslOptions(options.credentials),
      logLevel: logLevel.WARN,
      logCreator: nestLogCreator,
      connectionTimeout: 3000,
      retry: { initialRetryTime: 200, retries: 8 },
    });
    // Topics are created explicitly (ensureTopics), never by a producer's first send:
    // an auto-created topic gets broker defaults nobody chose.
    this.producer = deploymentProducer(
      this.kafka.producer({ allowAutoTopicCreation: false }),
      this.deployment,
    );
    this.admin = this.kafka.admin({ retry: { retries: 1 } });
  }

  /** The broker's name of a contract's topic, in this client's deployment. */
  topic(logical: string): string {
    return physicalTopic(this.deployment, logical);
  }

  /** The contract's name of a broker topic (the topic itself if it is not this deployment's). */
  logicalTopic(physical: string): string {
    return logicalTopic(this.deployment, physical) ?? physical;
  }

  /** The broker's name of a consumer group, in this client's deployment. */
  group(logical: string): string {
    return physicalGroup(this.deployment, logical);
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
  }

  /**
   * Creates the topics (logical names) that do not exist yet and waits until each partition has a leader.
   * Subscribing to a topic a fresh broker does not host yet fails with "This server does not
   * host this topic-partition", so every service runs this before it subscribes.
   *
   * Services starting together against a fresh broker race to create the same topics: the
   * loser's createTopics returns at once (it exists), and a topic created a moment ago may
   * still be unknown to the broker's metadata (kafkajs waits out LEADER_NOT_AVAILABLE only,
   * not UNKNOWN_TOPIC_OR_PARTITION). Both are transient: retried until the metadata of every
   * topic answers, instead of failing the service's start-up.
   *
   * On a broker with ACLs a service principal may not create topics: they exist before it starts
   * (scripts/infra/kafka-access.mjs creates them with the ACLs), and a missing one stops the
   * start-up with a line that says so.
   */
  async ensureTopics(logicalTopics: ITopicConfig[], timeoutMs = 30_000): Promise<void> {
    if (logicalTopics.length === 0) return;
    const topics = logicalTopics.map((config) => ({ ...config, topic: this.topic(config.topic) }));
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const existing = new Set(await this.admin.listTopics());
        const missing = topics.filter((topic) => !existing.has(topic.topic));
        if (missing.length > 0) {
          await this.admin
            .createTopics({ topics: missing, waitForLeaders: true })
            .catch((error) => {
              throw deniedCreation(error) ?? error;
            });
        }
        const { topics: found } = await this.admin.fetchTopicMetadata({
          topics: topics.map((topic) => topic.topic),
        });
        if (found.every(({ partitions }) => partitions.every(({ leader }) => leader >= 0))) return;
      } catch (error) {
        // Denied topics are waited for too: the step that creates them with their ACLs
        // (kafka-access.mjs) may still be running beside a service that starts with it.
        const waitable = isTransient(error) || error instanceof TopicsNotGrantedError;
        if (!waitable || Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline) throw new Error('Timed out waiting for topic leaders');
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 1000)));
    }
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

/**
 * The error to report when the broker refused to create topics for lack of rights, if it did. A
 * topic the principal may not describe gets the same answer whether it exists or not.
 */
class TopicsNotGrantedError extends Error {}

function deniedCreation(error: unknown): Error | undefined {
  const errors = (error as { errors?: { type?: string; topic?: string }[] }).errors ?? [];
  const denied = errors.filter((e) => e.type === 'TOPIC_AUTHORIZATION_FAILED').map((e) => e.topic);
  if (denied.length === 0) return undefined;
  return new TopicsNotGrantedError(
    `Kafka topics ${denied.join(', ')}: this principal may neither see nor create them. ` +
      'Either the ACLs grant it nothing on them, or they do not exist yet (they are created ' +
      'with the ACLs: scripts/infra/kafka-access.mjs, run by `npm run infra:up`)',
    { cause: error },
  );
}

/**
 * A kafkajs error worth retrying: retriable itself, or wrapping one (kafkajs's own retrier
 * gives up with KafkaJSNumberOfRetriesExceeded or KafkaJSNonRetriableError around the cause).
 */
function isTransient(error: unknown): boolean {
  for (
    let e = error as { retriable?: boolean; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (e.retriable === true) return true;
  }
  return false;
}
