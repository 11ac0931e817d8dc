// Who may do what on the broker, from one table: creates the order flow's topics and writes
// the ACLs that let each service principal do exactly its part, as admin.
//
//   KAFKA_ADMIN_PASSWORD=... node kafka-access.mjs --brokers 127.0.0.1:9092
//
// kafka.sh runs it after every start (and docker compose as a one-shot step): idempotent, it
// creates only what is missing and revokes the ACLs of the service principals that the table
// no longer grants (a renamed topic leaves no stale grant behind). The broker denies whatever
// no ACL allows (allow.everyone.if.no.acl.found=false); admin is its super user.
import kafkajs from 'kafkajs';
import { adminKafka, option } from './kafka-admin.mjs';

// kafkajs is CommonJS: its enums come through the default export.
const {
  AclOperationTypes: Operation,
  AclPermissionTypes: Permission,
  AclResourceTypes: Resource,
  ResourcePatternTypes: Pattern,
} = kafkajs;

/**
 * The security design's table (issue 12): each topic has one writer and one
 * reader. Its dead-letter topic `<topic>.dlq` is written by the reader (the consumer
 * dead-letters what it cannot handle) and read by nobody but admin.
 */
export const FLOW_TOPICS = [
  { topic: 'inventory.commands', writer: 'order', reader: 'inventory' },
  { topic: 'payment.commands', writer: 'order', reader: 'payment' },
  { topic: 'inventory.replies', writer: 'inventory', reader: 'order' },
  { topic: 'payment.replies', writer: 'payment', reader: 'order' },
  // Two-phase commit's phase two, apart from the commands (libs/dist-core/src/kafka/message-catalog.ts).
  { topic: 'inventory.decisions', writer: 'order', reader: 'inventory' },
  { topic: 'payment.decisions', writer: 'order', reader: 'payment' },
];

/** The service principals; each consumes in its own group `<service>-service`. */
export const SERVICES = ['order', 'payment', 'inventory'];

/**
 * Every consumer group and the one principal that may use it: each service's `<service>-service`,
 * and the 2PC participants' `<service>-decisions` (bootstrap's separateConsumers), which read the
 * decisions topic so that no prepare waiting on the commands topic holds a decision up.
 */
export const CONSUMER_GROUPS = [
  ...SERVICES.map((service) => ({ group: `${service}-service`, principal: service })),
  { group: 'inventory-decisions', principal: 'inventory' },
  { group: 'payment-decisions', principal: 'payment' },
];

/** What the services' consumer servers create when they find a topic missing (partitionsPerTopic). */
const PARTITIONS = 3;

const DLQ = '.dlq';

/**
 * The deployments whose topics and groups are set up: '' (the plain names), and the names the
 * test suites and the benchmark run their services under (TEST_DEPLOYMENT, BENCH_DEPLOYMENT), so
 * they never share a consumer group with a running system. `--deployments a,b` (or
 * KAFKA_DEPLOYMENTS) replaces the list; an empty entry stands for the plain names.
 */
const DEFAULT_DEPLOYMENTS = ',test,bench';

/** libs/dist-core/src/kafka/deployment.ts' rule (physicalTopic, physicalGroup): `<d>.<name>`. */
const inDeployment = (deployment, name) => (deployment === '' ? name : `${deployment}.${name}`);

function deployments() {
  const list = option('deployments', process.env.KAFKA_DEPLOYMENTS ?? DEFAULT_DEPLOYMENTS);
  return [...new Set(list.split(',').map((d) => d.trim()))];
}

function allow(principal, resourceType, resourceName, operation) {
  return {
    resourceType,
    resourceName,
    resourcePatternType: Pattern.LITERAL,
    principal: `User:${principal}`,
    host: '*',
    operation,
    permissionType: Permission.ALLOW,
  };
}

/**
 * Every grant. READ and WRITE imply DESCRIBE (topic metadata, offsets), which the services'
 * start-up (listTopics, fetchTopicMetadata) and their consumers need; nothing else is granted:
 * no CREATE (the topics exist before any service starts), no cluster-wide operation.
 */
export function accessControlList(deploymentNames = ['']) {
  const acl = [];
  for (const d of deploymentNames) {
    for (const { topic, writer, reader } of FLOW_TOPICS) {
      acl.push(allow(writer, Resource.TOPIC, inDeployment(d, topic), Operation.WRITE));
      acl.push(allow(reader, Resource.TOPIC, inDeployment(d, topic), Operation.READ));
      acl.push(allow(reader, Resource.TOPIC, inDeployment(d, `${topic}${DLQ}`), Operation.WRITE));
    }
    for (const { group, principal } of CONSUMER_GROUPS) {
      acl.push(allow(principal, Resource.GROUP, inDeployment(d, group), Operation.READ));
    }
  }
  return acl;
}

const key = (entry) =>
  [
    entry.resourceType,
    entry.resourceName,
    entry.resourcePatternType,
    entry.principal,
    entry.host,
    entry.operation,
    entry.permissionType,
  ].join('|');

/** The ACLs the broker holds now, flattened like the ones `accessControlList` returns. */
async function currentAcl(admin) {
  const { resources } = await admin.describeAcls({
    resourceType: Resource.ANY,
    resourcePatternType: Pattern.ANY,
    operation: Operation.ANY,
    permissionType: Permission.ANY,
  });
  return resources.flatMap(({ resourceType, resourceName, resourcePatternType, acls }) =>
    acls.map(({ principal, host, operation, permissionType }) => ({
      resourceType,
      resourceName,
      resourcePatternType,
      principal,
      host,
      operation,
      permissionType,
    })),
  );
}

async function createTopics(admin, deploymentNames) {
  const wanted = [
    ...new Set(
      deploymentNames.flatMap((d) =>
        FLOW_TOPICS.flatMap(({ topic }) => [topic, `${topic}${DLQ}`]).map((t) =>
          inDeployment(d, t),
        ),
      ),
    ),
  ];
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((topic) => !existing.has(topic));
  if (missing.length > 0) {
    await admin.createTopics({
      topics: missing.map((topic) => ({ topic, numPartitions: PARTITIONS })),
      waitForLeaders: true,
    });
  }
  return missing;
}

async function applyAcl(admin, deploymentNames) {
  // Keyed, so an entry listed twice is granted once.
  const wanted = [
    ...new Map(accessControlList(deploymentNames).map((entry) => [key(entry), entry])).values(),
  ];
  const current = await currentAcl(admin);
  const have = new Set(current.map(key));
  const want = new Set(wanted.map(key));
  const missing = wanted.filter((entry) => !have.has(key(entry)));
  const principals = new Set(SERVICES.map((service) => `User:${service}`));
  // Only the service principals' grants are this table's to revoke; anything else an operator
  // added by hand is left alone.
  const stale = current.filter((entry) => principals.has(entry.principal) && !want.has(key(entry)));
  if (missing.length > 0) await admin.createAcls({ acl: missing });
  if (stale.length > 0) await admin.deleteAcls({ filters: stale });
  return { granted: missing.length, revoked: stale.length };
}

async function main() {
  const brokers = option('brokers', '127.0.0.1:9092').split(',');
  const admin = adminKafka('infra-access', brokers, { retry: { retries: 3 } }).admin();
  await admin.connect();
  try {
    const names = deployments();
    const created = await createTopics(admin, names);
    const { granted, revoked } = await applyAcl(admin, names);
    const changes = [
      created.length > 0 ? `created ${created.join(', ')}` : '',
      granted > 0 ? `granted ${granted} ACLs` : '',
      revoked > 0 ? `revoked ${revoked} stale ACLs` : '',
    ].filter(Boolean);
    console.log(changes.length > 0 ? changes.join('; ') : 'topics and ACLs as the table says');
  } finally {
    await admin.disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(`kafka-access: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
