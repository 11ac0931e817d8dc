import type { Type } from '@nestjs/common';
import type { ConfigOf, EnvSchema } from '../config/index.js';
import type { MessageCatalog } from '../kafka/index.js';
import type { PostgresTarget } from './postgres-databases.js';

/** What a service tells `bootstrapService`: everything else is the same for all three. */
export interface ServiceSpec<S extends EnvSchema = EnvSchema> {
  /** `order`, `payment`, `inventory`: names the Kafka client, consumer group and logs. */
  name: string;
  /** One line for the Swagger page. */
  description: string;
  /** The service's own module: its controllers, providers and Kafka handlers. */
  module: Type<unknown>;
  /** Its configuration schema (CONTRACT.md variable names). */
  config: S;
  httpPort(config: ConfigOf<S>): number;
  postgres(config: ConfigOf<S>): PostgresTarget[];
  /**
   * The message contracts of what the service sends and receives: its handlers' topics are
   * subscribed to, and every topic is created at start.
   */
  messages?: MessageCatalog;
  /**
   * Topics consumed by a consumer of their own, in group `<name>-<consumer>` (e.g.
   * `inventory-decisions`), so that nothing on the service's other topics can hold them up: a
   * 2PC prepare blocked on a prepared transaction's row lock must not stand in front of the
   * decision that releases it. The main consumer (`<name>-service`) takes every other topic.
   */
  separateConsumers?: Array<{ consumer: string; topics: readonly string[] }>;
}

export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const SERVICE_NAME = Symbol('SERVICE_NAME');
