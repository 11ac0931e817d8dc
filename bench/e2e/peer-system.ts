/**
 * A peer system (bench/peers/: the direct-calls baseline, DBOS, Restate) as the bench drives
 * it: fresh databases (`bench_<peer>_*`, dropped and made again each run) with the bench's
 * customers and products, its three services (and, for Restate, the restate-server) as
 * processes of their own, one order at a time through its order service, and what its tables
 * hold afterwards for the conservation check.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { PlacedOrder, PlaceOrder } from '../peers/src/contracts.js';
import { INVENTORY_SCHEMA, ORDER_SCHEMA, PAYMENT_SCHEMA } from '../peers/src/schema.js';
import {
  databaseUrl,
  peerTopology,
  PEERS_POSTGRES_URL,
  type PeerName,
  type PeerService,
  type PeerTopology,
} from '../peers/src/topology.js';
import type { Outcome } from './closed-loop.js';
import {
  ledgerSnapshot,
  type AccountRow,
  type LedgerSnapshot,
  type OrderRow,
  type ProductRow,
} from './conservation.js';

const PEERS_DIR = join('bench', 'peers');
const RESTATE_SERVER = join(
  PEERS_DIR,
  'node_modules/@restatedev/restate-server-linux-x64/bin/restate-server',
);

/** Each service's entry point; the participants are the same three times over. */
const ENTRY: Record<PeerName, Record<PeerService, string>> = {
  direct: {
    order: 'src/direct/order-service.ts',
    inventory: 'src/participants/inventory-service.ts',
    payment: 'src/participants/payment-service.ts',
  },
  dbos: {
    order: 'src/dbos/order-service.ts',
    inventory: 'src/participants/inventory-service.ts',
    payment: 'src/participants/payment-service.ts',
  },
  restate: {
    order: 'src/restate/order-service.ts',
    inventory: 'src/participants/inventory-service.ts',
    payment: 'src/participants/payment-service.ts',
  },
};

/** The node flags of the project's services (services.ts), so both run under the same cap. */
const NODE_FLAGS = ['--max-old-space-size=128'];

export interface PeerFixtures {
  customers: string[];
  skus: string[];
  stock: number;
  balanceCents: number;
  priceCents: number;
}

export class PeerSystem {
  private readonly children = new Map<string, ChildProcess>();
  private readonly logs = new Map<string, string[]>();
  private readonly pools: Record<PeerService, pg.Pool>;
  /** On the `postgres` database, so reading the statistics adds no commit to those measured. */
  private readonly stats = new pg.Pool({ connectionString: PEERS_POSTGRES_URL, max: 1 });
  private restateDir?: string;
  private registeredAt = 0;

  private constructor(readonly topology: PeerTopology) {
    const pool = (service: PeerService) =>
      new pg.Pool({ connectionString: databaseUrl(topology.databases[service]), max: 2 });
    this.pools = { order: pool('order'), inventory: pool('inventory'), payment: pool('payment') };
  }

  get name(): PeerName {
    return this.topology.name;
  }

  /** Fresh databases with `fixtures` in them, then the processes, each once it answers. */
  static async start(name: PeerName, fixtures: PeerFixtures): Promise<PeerSystem> {
    const topology = peerTopology(name);
    await recreateDatabases(topology, fixtures);
    const system = new PeerSystem(topology);
    process.once('exit', () => {
      for (const child of system.children.values()) child.kill('SIGKILL');
    });
    try {
      if (topology.restateServer) await system.startRestateServer();
      for (const service of ['inventory', 'payment', 'order'] as const) {
        await system.startService(service);
      }
      if (topology.restateServer) await system.registerRestateDeployment();
    } catch (error) {
      await system.stop();
      throw error;
    }
    return system;
  }

  /** The processes whose CPU and memory the bench reads, by name. */
  pids(): Map<string, number> {
    const order = ['order', 'inventory', 'payment', 'restate-server'];
    return new Map(
      order.flatMap((name) => {
        const child = this.children.get(name);
        return child ? [[name, child.pid!] as const] : [];
      }),
    );
  }

  /** Database names, for pg_stat_database. */
  databaseNames(): string[] {
    return Object.values(this.topology.databases);
  }

  /** Σ xact_commit of the system's databases (as BenchDatabases.commits for the project's). */
  async commits(): Promise<number> {
    const client = await this.stats.connect();
    try {
      await client.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await client.query<{ commits: string }>(
        'SELECT sum(xact_commit)::text AS commits FROM pg_stat_database WHERE datname = ANY($1)',
        [this.databaseNames()],
      );
      return Number(rows[0].commits);
    } finally {
      client.release();
    }
  }

  /** Places one order and waits until its order service answers with it terminal. */
  async place(order: PlaceOrder): Promise<PlacedOrder> {
    const url = this.topology.restateServer
      ? `http://127.0.0.1:${this.topology.restateServer.ingress}/Orders/place`
      : `http://127.0.0.1:${this.topology.ports.order}/orders`;
    const request = () =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(order),
      });
    let response = await request();
    // Restate's ingress answers 404 for a service it has not learnt of yet (just registered).
    while (response.status === 404 && Date.now() - this.registeredAt < 10_000) {
      await response.text();
      await new Promise((resolve) => setTimeout(resolve, 100));
      response = await request();
    }
    const text = await response.text();
    if (response.status !== 200)
      throw new Error(`${this.name}: POST ${url}: ${response.status} ${text}`);
    return JSON.parse(text) as PlacedOrder;
  }

  /** The bench's closed-loop work: worker i orders one unit of product i for customer i. */
  work(fixtures: PeerFixtures): (worker: number) => Promise<Outcome> {
    return async (worker) => {
      const slot = worker % fixtures.customers.length;
      const order = await this.place({
        customerId: fixtures.customers[slot],
        items: [{ sku: fixtures.skus[slot], quantity: 1 }],
      });
      return {
        startedAt: order.createdAt,
        endedAt: order.updatedAt,
        completed: order.status === 'COMPLETED',
      };
    };
  }

  /** A participant's route, called directly (the flow check's idempotency probes). */
  async callParticipant<T>(service: 'inventory' | 'payment', route: string, body: unknown) {
    const response = await fetch(`http://127.0.0.1:${this.topology.ports[service]}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 200) throw new Error(`${route}: ${response.status}`);
    return (await response.json()) as T;
  }

  /** Stock, money and orders as the three databases hold them now. */
  async snapshot(): Promise<LedgerSnapshot> {
    const [products, accounts, orders] = await Promise.all([
      this.pools.inventory.query<ProductRow>('SELECT sku, available, reserved, sold FROM products'),
      this.pools.payment.query<AccountRow>(
        'SELECT customer_id, available_cents, frozen_cents, spent_cents FROM accounts',
      ),
      this.pools.order.query<OrderRow>(
        'SELECT customer_id, status, total_cents, items FROM orders',
      ),
    ]);
    return ledgerSnapshot(products.rows, accounts.rows, orders.rows);
  }

  /** Adds products and accounts beside the bench's (the flow check's own). */
  async addFixtures(
    products: { sku: string; stock: number; priceCents: number }[],
    accounts: { customerId: string; balanceCents: number }[],
  ): Promise<void> {
    for (const p of products) {
      await this.pools.inventory.query(
        'INSERT INTO products (sku, name, price_cents, available) VALUES ($1, $1, $2, $3)',
        [p.sku, p.priceCents, p.stock],
      );
    }
    for (const a of accounts) {
      await this.pools.payment.query(
        'INSERT INTO accounts (customer_id, available_cents) VALUES ($1, $2)',
        [a.customerId, a.balanceCents],
      );
    }
  }

  /** SIGTERM each process and wait (SIGKILL after 15 s); the databases stay for inspection. */
  async stop(): Promise<void> {
    // The order service first, the restate-server last: nothing is left calling a stopped peer.
    const order = ['order', 'inventory', 'payment', 'restate-server'];
    for (const name of order) {
      const child = this.children.get(name);
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    await Promise.all([...Object.values(this.pools), this.stats].map((p) => p.end()));
    if (this.restateDir) rmSync(this.restateDir, { recursive: true, force: true });
  }

  private async startService(service: PeerService): Promise<void> {
    const { ports, databases } = this.topology;
    this.spawnLogged(
      service,
      process.execPath,
      [...NODE_FLAGS, '--import', 'tsx', join(PEERS_DIR, ENTRY[this.name][service])],
      {
        PEER_PORT: String(ports[service]),
        PEER_DB_URL: databaseUrl(databases[service]),
        PEER_INVENTORY_PORT: String(ports.inventory),
        PEER_PAYMENT_PORT: String(ports.payment),
      },
    );
    // The Restate deployment speaks only Restate's protocol: it is up once it accepts a socket.
    if (this.name === 'restate' && service === 'order') {
      await this.waitFor(service, () => accepts(ports.order));
    } else {
      await this.waitFor(service, () =>
        fetch(`http://127.0.0.1:${ports[service]}/health`).then((r) => r.status === 200),
      );
    }
  }

  /** The restate-server on the bench's ports, its journal in a temporary directory. */
  private async startRestateServer(): Promise<void> {
    const server = this.topology.restateServer!;
    this.restateDir = mkdtempSync(join(tmpdir(), 'bench-restate-'));
    this.spawnLogged(
      'restate-server',
      RESTATE_SERVER,
      ['--base-dir', this.restateDir, '--node-name', 'bench', '--no-logo', '--listen-mode', 'tcp'],
      {
        RESTATE_BIND_ADDRESS: `127.0.0.1:${server.node}`,
        RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${server.ingress}`,
        RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${server.admin}`,
        RESTATE_LOG_FILTER: 'warn',
        // No reports home (it also tries to reach GitHub for new versions otherwise).
        RESTATE_DISABLE_TELEMETRY: 'true',
      },
    );
    await this.waitFor('restate-server', () =>
      fetch(`http://127.0.0.1:${server.admin}/health`).then((r) => r.status === 200),
    );
  }

  /** Tells the restate-server where the Orders service runs (its admin API). */
  private async registerRestateDeployment(): Promise<void> {
    const server = this.topology.restateServer!;
    const response = await fetch(`http://127.0.0.1:${server.admin}/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uri: `http://127.0.0.1:${this.topology.ports.order}` }),
    });
    if (response.status >= 300) {
      throw new Error(
        `restate: registering the deployment: ${response.status} ${await response.text()}`,
      );
    }
    // The ingress learns of the new service a moment later (place() waits for that).
    this.registeredAt = Date.now();
  }

  private spawnLogged(name: string, command: string, args: string[], env: Record<string, string>) {
    const child = spawn(command, args, {
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        log.push(chunk.toString());
        if (log.length > 200) log.shift();
        if (process.env.BENCH_PEERS_LOG === '1')
          process.stderr.write(`[${this.name} ${name}] ${chunk}`);
      });
    }
    this.children.set(name, child);
    this.logs.set(name, log);
  }

  private async waitFor(name: string, ready: () => Promise<boolean>, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.children.get(name)!.exitCode !== null) break;
      if (await ready().catch(() => false)) return;
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`${this.name} ${name} never became ready:\n${this.logs.get(name)!.join('')}`);
  }
}

/** True once something listens on the port (HTTP/2 only servers answer no HTTP/1.1 probe). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Drops and makes again the peer's three databases, with its schema and the fixtures. */
async function recreateDatabases(topology: PeerTopology, fixtures: PeerFixtures) {
  const admin = new pg.Client({ connectionString: PEERS_POSTGRES_URL });
  await admin.connect();
  try {
    for (const database of Object.values(topology.databases)) {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${database}`);
    }
  } finally {
    await admin.end();
  }
  const schemas: Record<PeerService, string> = {
    order: ORDER_SCHEMA,
    inventory: INVENTORY_SCHEMA,
    payment: PAYMENT_SCHEMA,
  };
  for (const service of ['order', 'inventory', 'payment'] as const) {
    const client = new pg.Client({ connectionString: databaseUrl(topology.databases[service]) });
    await client.connect();
    try {
      await client.query(schemas[service]);
      if (service === 'inventory') {
        await client.query(
          `INSERT INTO products (sku, name, price_cents, available)
           SELECT sku, sku, $2, $3 FROM unnest($1::text[]) AS sku`,
          [fixtures.skus, fixtures.priceCents, fixtures.stock],
        );
      } else if (service === 'payment') {
        await client.query(
          `INSERT INTO accounts (customer_id, available_cents)
           SELECT customer_id, $2 FROM unnest($1::text[]) AS customer_id`,
          [fixtures.customers, fixtures.balanceCents],
        );
      }
    } finally {
      await client.end();
    }
  }
}
