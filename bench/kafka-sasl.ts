/**
 * What authenticated Kafka costs a hop of the order flow, side by side in one run:
 *
 *   npm run build && npx tsx bench/kafka-sasl.ts      (infra:up first; not while `npm run bench` runs)
 *
 * "secured" is the broker infra:up runs (127.0.0.1:9092): SASL/SCRAM-SHA-512 and the
 * StandardAuthorizer checking ACLs on every request, used as the services use it — `order` writes
 * the bench deployment's inventory.commands, `inventory` reads it and writes inventory.replies,
 * which `order` reads. "open" is a throwaway broker this script starts from the same jars and the
 * same server.properties minus the SASL, JAAS and authorizer lines (PLAINTEXT on 19092, data in a
 * temporary folder, stopped at the end), where the same clients connect without credentials.
 *
 * Measured on each: connecting a producer (TCP + SASL handshake + metadata), and a closed loop of
 * command → echo → reply round trips (one flow hop each way) at concurrency 1 and 16. The
 * services have no unauthenticated mode on purpose, so this is the part of `npm run bench` that
 * SASL and ACLs can change: everything else an order does (Postgres, the engines) is the same.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer, type KafkaConfig, type Producer } from 'kafkajs';
import { requireLocalSecret } from '@app/dist-core/config';
import { adminCredentials, physicalTopic, saslOptions } from '@app/dist-core/kafka';
import { percentile } from './e2e/closed-loop.js';

const SECURED_BROKER = '127.0.0.1:9092';
const OPEN_PORT = 19092;
const OPEN_CONTROLLER_PORT = 19093;
const DEPLOYMENT = 'bench';
const COMMANDS = physicalTopic(DEPLOYMENT, 'inventory.commands');
const REPLIES = physicalTopic(DEPLOYMENT, 'inventory.replies');
const GROUPS = {
  participant: `${DEPLOYMENT}.inventory-service`,
  orders: `${DEPLOYMENT}.order-service`,
};
const CONNECTS = 20;
const LEVELS = [1, 16];
const MEASURE_MS = Number(process.env.KAFKA_SASL_MEASURE_MS ?? 10_000);
const log = (text: string) => process.stderr.write(`${text}\n`);

interface Side {
  name: 'secured' | 'open';
  /** The kafkajs configuration of a principal (the same broker, no credentials, when open). */
  client: (principal: 'order' | 'inventory' | 'admin') => KafkaConfig;
}

const secured: Side = {
  name: 'secured',
  client: (principal) => ({
    clientId: `kafka-sasl-${principal}`,
    brokers: [SECURED_BROKER],
    logLevel: logLevel.NOTHING,
    sasl: saslOptions(
      principal === 'admin'
        ? adminCredentials()
        : { username: principal, password: requireLocalSecret(`kafka-${principal}`) },
    ),
  }),
};

const open: Side = {
  name: 'open',
  client: (principal) => ({
    clientId: `kafka-sasl-${principal}`,
    brokers: [`127.0.0.1:${OPEN_PORT}`],
    logLevel: logLevel.NOTHING,
  }),
};

/** The project's broker configuration without its security: same storage, topics and tuning. */
function openBrokerProperties(dataDir: string): string {
  const security = /sasl|jaas|authorizer|allow\.everyone|super\.users|security\.protocol\.map/;
  const kept = readFileSync('scripts/infra/server.properties', 'utf8')
    .split('\n')
    .filter((line) => !security.test(line) && !line.startsWith('#'))
    .join('\n')
    .replaceAll('@KAFKA_PORT@', String(OPEN_PORT))
    .replaceAll('@KAFKA_CONTROLLER_PORT@', String(OPEN_CONTROLLER_PORT))
    .replaceAll('@KAFKA_DATA_DIR@', join(dataDir, 'data'))
    .replaceAll('CLIENT:', 'PLAINTEXT:')
    .replaceAll('=CLIENT', '=PLAINTEXT');
  return `${kept}\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n`;
}

async function startOpenBroker(): Promise<{ process: ChildProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-open-'));
  const properties = join(dir, 'server.properties');
  writeFileSync(properties, openBrokerProperties(dir));
  const java = ['-cp', '.infra/kafka/libs/*', `-Dkafka.logs.dir=${dir}`];
  const clusterId = randomBytes(16).toString('base64url');
  execFileSync(
    'java',
    [...java, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties],
    {
      stdio: 'ignore',
    },
  );
  const broker = spawn('java', ['-Xmx512m', ...java, 'kafka.Kafka', properties], {
    stdio: 'ignore',
  });
  const admin = new Kafka(open.client('admin')).admin();
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      await admin.connect();
      await admin.listTopics();
      break;
    } catch (error) {
      if (Date.now() > deadline || broker.exitCode !== null) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  await admin.createTopics({
    topics: [COMMANDS, REPLIES].map((topic) => ({ topic, numPartitions: 3 })),
  });
  await admin.disconnect();
  return { process: broker, dir };
}

async function connectTimes(side: Side): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < CONNECTS; i++) {
    const producer = new Kafka(side.client('order')).producer();
    const started = performance.now();
    await producer.connect();
    // Connecting fetches metadata; a first send also opens the partition leader's connection.
    await producer.send({ topic: COMMANDS, messages: [{ key: 'connect', value: 'connect' }] });
    times.push(performance.now() - started);
    await producer.disconnect();
  }
  return times;
}

/** Order → commands → participant echoes to replies → order: one round trip per message. */
class EchoLoop {
  private readonly pending = new Map<string, () => void>();
  private orderProducer!: Producer;
  private participantProducer!: Producer;
  private participant!: Consumer;
  private replies!: Consumer;
  private sent = 0;

  constructor(private readonly side: Side) {}

  async start(): Promise<void> {
    const order = new Kafka(this.side.client('order'));
    const inventory = new Kafka(this.side.client('inventory'));
    this.orderProducer = order.producer();
    this.participantProducer = inventory.producer();
    this.participant = inventory.consumer({ groupId: GROUPS.participant, maxWaitTimeInMs: 50 });
    this.replies = order.consumer({ groupId: GROUPS.orders, maxWaitTimeInMs: 50 });
    await Promise.all([this.orderProducer.connect(), this.participantProducer.connect()]);
    await Promise.all([this.participant.connect(), this.replies.connect()]);
    await this.participant.subscribe({ topic: COMMANDS, fromBeginning: true });
    await this.replies.subscribe({ topic: REPLIES, fromBeginning: true });
    await this.participant.run({
      eachMessage: async ({ message }) => {
        await this.participantProducer.send({
          topic: REPLIES,
          messages: [{ key: message.key, value: message.value }],
        });
      },
    });
    await this.replies.run({
      eachMessage: async ({ message }) => this.pending.get(String(message.value))?.(),
    });
    // Until both groups have their partitions, a message may be skipped: retry until one returns.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.roundTrip(`${this.side.name}-ready-${attempt}`, 5_000);
      } catch (error) {
        if (attempt === 12) throw error;
      }
    }
  }

  roundTrip(id: string, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${id}`)), timeoutMs);
      this.pending.set(id, () => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve();
      });
      this.orderProducer
        .send({ topic: COMMANDS, messages: [{ key: id, value: id }] })
        .catch(reject);
    });
  }

  /** A closed loop of `concurrency` workers for `durationMs`: round trips/s and each one's time. */
  async run(concurrency: number, durationMs: number): Promise<LevelResult> {
    const latencies: number[] = [];
    const end = Date.now() + durationMs;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < end) {
          const started = performance.now();
          await this.roundTrip(`${this.side.name}-${concurrency}-${this.sent++}`);
          latencies.push(performance.now() - started);
        }
      }),
    );
    return { perSecond: latencies.length / (durationMs / 1000), latencies };
  }

  async stop(): Promise<void> {
    await Promise.all([this.participant.disconnect(), this.replies.disconnect()]);
    await Promise.all([this.orderProducer.disconnect(), this.participantProducer.disconnect()]);
  }
}

/** The closed loop's percentile (nearest rank) over unsorted times; NaN when there are none. */
const percentileOf = (values: number[], p: number) =>
  percentile(
    [...values].sort((a, b) => a - b),
    p,
  ) ?? NaN;

const ROUNDS = 2;
const WARM_UP_MS = 15_000;

interface LevelResult {
  perSecond: number;
  latencies: number[];
}

/**
 * Both sides connected and warmed up (a fresh broker's JVM has not compiled its hot paths yet),
 * then each level measured ROUNDS times per side, alternating, so that neither side has a
 * quieter machine than the other; each side's figures are over all its rounds.
 */
async function compare(sides: Side[]) {
  const connects = new Map<Side, number[]>();
  const loops = new Map<Side, EchoLoop>();
  for (const side of sides) {
    log(`${side.name}: connecting ${CONNECTS} producers…`);
    connects.set(side, await connectTimes(side));
    const loop = new EchoLoop(side);
    await loop.start();
    loops.set(side, loop);
    log(`${side.name}: warming up…`);
    await loop.run(16, WARM_UP_MS);
  }
  const levels = LEVELS.map((concurrency) => ({
    concurrency,
    bySide: new Map<Side, LevelResult>(),
  }));
  for (const level of levels) {
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of sides) {
        log(`${side.name}: round trips at concurrency ${level.concurrency} (round ${round + 1})…`);
        const { perSecond, latencies } = await loops.get(side)!.run(level.concurrency, MEASURE_MS);
        const sum = level.bySide.get(side) ?? { perSecond: 0, latencies: [] };
        level.bySide.set(side, {
          perSecond: sum.perSecond + perSecond / ROUNDS,
          latencies: [...sum.latencies, ...latencies],
        });
      }
    }
  }
  for (const loop of loops.values()) await loop.stop();
  return { connects, levels };
}

log('starting a throwaway broker without SASL or ACLs on 19092…');
const broker = await startOpenBroker();
try {
  const { connects, levels } = await compare([secured, open]);
  const f = (n: number) => n.toFixed(1);
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  const [connectSecured, connectOpen] = [secured, open].map((side) =>
    percentileOf(connects.get(side)!, 50),
  );
  const lines = [
    '| | secured (SASL/SCRAM + ACLs) | open (PLAINTEXT, no ACLs) | secured / open |',
    '|---|---|---|---|',
    `| producer connect + first send, p50 ms | ${f(connectSecured)} | ${f(connectOpen)} | ${ratio(connectSecured, connectOpen)} |`,
  ];
  for (const { concurrency, bySide } of levels) {
    const [s, o] = [bySide.get(secured)!, bySide.get(open)!];
    const [s50, s99, o50, o99] = [
      percentileOf(s.latencies, 50),
      percentileOf(s.latencies, 99),
      percentileOf(o.latencies, 50),
      percentileOf(o.latencies, 99),
    ];
    lines.push(
      `| c = ${concurrency}: round trips/s | ${f(s.perSecond)} | ${f(o.perSecond)} | ${ratio(s.perSecond, o.perSecond)} |`,
      `| c = ${concurrency}: round trip p50 / p99 ms | ${f(s50)} / ${f(s99)} | ${f(o50)} / ${f(o99)} | ${ratio(s50, o50)} |`,
    );
  }
  console.log(lines.join('\n'));
} finally {
  broker.process.kill('SIGTERM');
  await new Promise((resolve) => broker.process.once('exit', resolve));
  rmSync(broker.dir, { recursive: true, force: true });
}
