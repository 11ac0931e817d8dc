import type { SASLOptions } from 'kafkajs';
import { localSecret } from '../config/local-secrets.js';

/**
 * A SASL/SCRAM principal of the broker: a service's own (KAFKA_USERNAME, KAFKA_PASSWORD; see
 * sharedConfig) or admin. The broker accepts no connection without one.
 */
export interface KafkaCredentials {
  username: string;
  password: string;
}

/** kafkajs's SASL options: SCRAM-SHA-512, the mechanism the broker's client listener offers. */
export function saslOptions(credentials: KafkaCredentials): SASLOptions {
  return { mechanism: 'scram-sha-512', ...credentials };
}

/**
 * The admin principal (the broker's super user), for what manages topics of its own: tests,
 * benchmarks, tools. Its password is KAFKA_ADMIN_PASSWORD, else the local secret kafka-admin
 * that `npm run infra:up` generated. Services never use it: each signs in as itself.
 */
export function adminCredentials(source: NodeJS.ProcessEnv = process.env): KafkaCredentials {
  const password = source.KAFKA_ADMIN_PASSWORD || localSecret('kafka-admin', source);
  if (!password) {
    throw new Error(
      'Kafka admin password: KAFKA_ADMIN_PASSWORD is not set and there is no local secret kafka-admin (`npm run infra:up` generates it)',
    );
  }
  return { username: 'admin', password };
}
