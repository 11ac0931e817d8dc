/**
 * Deployment names: two stacks on one Kafka cluster (two environments, or a benchmark beside a
 * running system) must not share topics or consumer groups: a second stack's services would
 * join the first's groups and take half of its partitions, and each would handle the other's
 * orders. A deployment name (DEPLOYMENT) prefixes every topic and every consumer group that
 * reaches the broker; the empty name (the default) is the plain names.
 *
 * Only the Kafka adapter (KafkaClient, KafkaConsumerServer) applies it: message contracts, the
 * outbox's rows, handlers and dead-letter bookkeeping keep the logical names, so a contract
 * reads the same in every deployment. These functions are pure so that scripts granting Kafka
 * ACLs per deployment compute exactly the names the services use. Which names are allowed is
 * config's (deploymentNameProblem in config/defaults.ts), as it checks every variable at start.
 */

function prefix(deployment: string): string {
  return deployment === '' ? '' : `${deployment}.`;
}

/** The topic on the broker for a contract's topic: `inventory.commands` → `bench.inventory.commands`. */
export function physicalTopic(deployment: string, topic: string): string {
  return prefix(deployment) + topic;
}

/** The contract's topic for a topic on the broker; undefined if it belongs to no such deployment. */
export function logicalTopic(deployment: string, topic: string): string | undefined {
  const p = prefix(deployment);
  return topic.startsWith(p) ? topic.slice(p.length) : undefined;
}

/** The consumer group on the broker for a group's logical name. */
export function physicalGroup(deployment: string, group: string): string {
  return prefix(deployment) + group;
}

/** A service's consumer group, logical: `order-service`. */
export function serviceGroup(service: string): string {
  return `${service}-service`;
}

/** A service's consumer group on the broker: `bench.order-service`. */
export function consumerGroupOf(deployment: string, service: string): string {
  return physicalGroup(deployment, serviceGroup(service));
}
