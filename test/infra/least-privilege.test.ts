// Least privilege at rest: each service's Postgres role owns its own databases and can connect
// to nothing else, and the Redis nodes infra:up starts require the password.
//
// Two servers are looked at:
// - the ones the services use (ORDER_DB_SHARDS, PAYMENT_DB_URL, INVENTORY_DB_URL, REDIS_NODES,
//   by default infra:up's): role attributes, ownership, CONNECT, who may connect where. The
//   CONNECT check holds whatever pg_hba says; a password check does not: dev and CI machines
//   trust 127.0.0.1, where anyone may claim any role without a password, so there it proves
//   which role may open which database, not who may be that role.
// - a Postgres server of this test's own with password (SCRAM) auth for 127.0.0.1, as on a
//   fresh Debian install, left in the state the earlier scripts made (one role `app` owning
//   everything) and provisioned by scripts/infra/postgres.sh: the handover, and that no
//   password or a wrong one is refused. And a Redis node of its own, started by redis.sh.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DEFAULTS, env, loadConfig, redactUrl } from '@app/dist-core/config';
import { testDatabaseUrl } from '../support/test-database.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

const config = loadConfig({
  ORDER_DB_SHARDS: env.postgresUrls(DEFAULTS.ORDER_DB_SHARDS),
  PAYMENT_DB_URL: env.postgresUrl(DEFAULTS.PAYMENT_DB_URL),
  INVENTORY_DB_URL: env.postgresUrl(DEFAULTS.INVENTORY_DB_URL),
  REDIS_NODES: env.redisUrls(DEFAULTS.REDIS_NODES),
});

/** Each service's databases, as its own role. */
const SERVICES: Record<string, string[]> = {
  order: config.ORDER_DB_SHARDS,
  payment: [config.PAYMENT_DB_URL],
  inventory: [config.INVENTORY_DB_URL],
};

/** `url`'s database, opened with the credentials of `credentials` (another URL). */
function as(credentials: string, url: string): string {
  const target = new URL(url);
  const source = new URL(credentials);
  target.username = source.username;
  target.password = source.password;
  return target.toString();
}

/** Connects, runs `sql` and disconnects; the rows, or the server's error. */
async function query<T = Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The SQLSTATE a connection attempt fails with (or 'connected'). */
async function connectOutcome(url: string): Promise<string> {
  try {
    await query(url, 'SELECT 1');
    return 'connected';
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  }
}

const PERMISSION_DENIED = '42501';
const INVALID_PASSWORD = '28P01';

describe('the services’ Postgres roles', () => {
  const pairs = Object.entries(SERVICES).flatMap(([role, urls]) =>
    urls.map((url) => [role, redactUrl(url), url] as const),
  );

  it.each(pairs)(
    '%s owns %s, alone may connect to it, and has LOGIN and nothing more',
    async (role, _name, url) => {
      const [row] = await query(
        url,
        `SELECT current_user AS "user", r.rolsuper, r.rolcreatedb, r.rolcreaterole,
                r.rolreplication, r.rolbypassrls,
                pg_get_userbyid(d.datdba) AS owner,
                has_database_privilege('public', d.oid, 'CONNECT') AS public_connect,
                (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public')
                  AS schema_owner
           FROM pg_roles r, pg_database d
          WHERE r.rolname = current_user AND d.datname = current_database()`,
      );
      expect(row).toEqual({
        user: role,
        rolsuper: false,
        rolcreatedb: false,
        rolcreaterole: false,
        rolreplication: false,
        rolbypassrls: false,
        owner: role,
        public_connect: false,
        schema_owner: role,
      });
    },
  );

  const crossings = Object.entries(SERVICES).flatMap(([role, urls]) =>
    Object.entries(SERVICES)
      .filter(([other]) => other !== role)
      .flatMap(([other, otherUrls]) =>
        otherUrls.map((target) => [role, redactUrl(target), as(urls[0], target), other] as const),
      ),
  );

  it.each(crossings)('%s, with its own password, may not connect to %s', async (_r, _n, url) => {
    expect(await connectOutcome(url)).toBe(PERMISSION_DENIED);
  });

  it.each(Object.values(SERVICES).flat().map(redactUrl))(
    'the tests’ role may not connect to %s',
    async (name) => {
      const target = Object.values(SERVICES)
        .flat()
        .find((url) => redactUrl(url) === name)!;
      expect(await connectOutcome(as(testDatabaseUrl('postgres'), target))).toBe(PERMISSION_DENIED);
    },
  );

  it('the role every service shared before is gone', async () => {
    const rows = await query(config.PAYMENT_DB_URL, `SELECT 1 FROM pg_roles WHERE rolname = 'app'`);
    expect(rows).toEqual([]);
  });
});

/** The pid in infra:up's pidfile for the node on `port`, if that node is alive (ours). */
function startedByInfraUp(infraDir: string, port: number): boolean {
  const pidfile = join(infraDir, 'redis', String(port), 'redis.pid');
  if (!existsSync(pidfile)) return false;
  const pid = readFileSync(pidfile, 'utf8').trim();
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`redis-server 127.0.0.1:${port}`);
  } catch {
    return false;
  }
}

/**
 * PING with the given URL's credentials: 'PONG', or the first word of the server's error
 * (NOAUTH, WRONGPASS). No ready check: it would send INFO first and fail on its own.
 */
async function ping(url: string): Promise<string> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableReadyCheck: false,
    connectTimeout: 2000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // A refused AUTH arrives as an error event, and the connection is then closed.
  let refused: Error | undefined;
  client.on('error', (error: Error) => (refused ??= error));
  try {
    await client.connect();
    return await client.ping();
  } catch (error) {
    return (refused ?? (error as Error)).message.split(' ')[0];
  } finally {
    client.disconnect();
  }
}

function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = password;
  return parsed.toString();
}

describe('the Redis nodes infra:up started', () => {
  const infraDir = resolve(process.env.INFRA_DIR ?? join(REPO_ROOT, '.infra'));

  it('refuse commands without the password, or with a wrong one, and answer with it', async () => {
    const ours = config.REDIS_NODES.filter((url) =>
      startedByInfraUp(infraDir, Number(new URL(url).port || 6379)),
    );
    // infra:up starts 6380 and 6381 wherever nothing ran there before (6379 may be reused).
    expect(ours.length).toBeGreaterThan(0);
    for (const url of ours) {
      expect(await ping(withPassword(url, ''))).toBe('NOAUTH');
      expect(await ping(withPassword(url, 'not-the-password'))).toBe('WRONGPASS');
      expect(await ping(url)).toBe('PONG');
    }
  });
});

// --- A server of this test's own, provisioned by the scripts from the old state. ---

const PORT_BASE = Number(process.env.TEST_PORT_BASE ?? 13000) + 110;
const OWN_PG_PORT = PORT_BASE;
const OWN_REDIS_PORT = PORT_BASE + 1;
const OWN_DIR = join(REPO_ROOT, '.infra', `least-privilege-${OWN_PG_PORT}`);
const PG_BIN = '/usr/lib/postgresql/15/bin';
const PG_DATA = join(OWN_DIR, 'postgres');
/** The scripts' environment: this server, and secrets of its own. */
const scriptEnv = {
  ...process.env,
  INFRA_DIR: OWN_DIR,
  SECRETS_DIR: join(OWN_DIR, 'secrets'),
  PG_PORT: String(OWN_PG_PORT),
};
const ownUrl = (role: string, password: string, db: string) =>
  `postgres://${role}:${encodeURIComponent(password)}@127.0.0.1:${OWN_PG_PORT}/${db}`;
const ownSecret = (name: string) => readFileSync(join(OWN_DIR, 'secrets', name), 'utf8').trim();

function asPostgres(binary: string, args: string[]) {
  return run('runuser', ['-u', 'postgres', '--', join(PG_BIN, binary), ...args]);
}

async function stopOwnPostgres(): Promise<void> {
  if (existsSync(join(PG_DATA, 'postmaster.pid')))
    await asPostgres('pg_ctl', ['-D', PG_DATA, 'stop', '-m', 'immediate']).catch(() => undefined);
}

// After every describe's own afterAll (the scripts would make the folder again).
afterAll(() => rmSync(OWN_DIR, { recursive: true, force: true }));

function provision() {
  return run('bash', ['scripts/infra/postgres.sh', 'start'], { cwd: REPO_ROOT, env: scriptEnv });
}

describe('scripts/infra/postgres.sh on a server with password auth, from the old shared role', () => {
  beforeAll(async () => {
    await stopOwnPostgres();
    rmSync(OWN_DIR, { recursive: true, force: true });
    mkdirSync(PG_DATA, { recursive: true });
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout);
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout);
    chownSync(PG_DATA, uid, gid);
    await asPostgres('initdb', ['-D', PG_DATA, '-U', 'postgres', '-E', 'UTF8', '-N']);
    // The superuser over TCP without a password, as the script needs it here (no Unix socket);
    // everyone else with a password, as a fresh Debian cluster has it for 127.0.0.1.
    writeFileSync(
      join(PG_DATA, 'pg_hba.conf'),
      'host all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n',
    );
    const options = `-p ${OWN_PG_PORT} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
    const log = join(PG_DATA, 'postgres.log');
    await asPostgres('pg_ctl', [
      '-D',
      PG_DATA,
      'start',
      '-w',
      '-t',
      '60',
      '-l',
      log,
      '-o',
      options,
    ]);

    // What the earlier postgres.sh left: role app/app owning every database, and the tables,
    // sequences and views its migrations made in them; plus a test suite's database.
    const admin = `postgres://postgres@127.0.0.1:${OWN_PG_PORT}/postgres`;
    await query(admin, `CREATE ROLE app LOGIN CREATEDB PASSWORD 'app'`);
    for (const db of ['orders_0', 'orders_1', 'orders_2', 'payment', 'inventory', 'test_saga'])
      await query(admin, `CREATE DATABASE ${db} OWNER app`);
    await query(
      ownUrl('app', 'app', 'payment'),
      `CREATE TABLE accounts (id bigserial PRIMARY KEY); CREATE VIEW account_ids AS SELECT id FROM accounts`,
    );
    await query(ownUrl('app', 'app', 'orders_0'), `CREATE TABLE orders (id bigint PRIMARY KEY)`);
    await query(ownUrl('app', 'app', 'test_saga'), `CREATE SCHEMA s; CREATE TABLE s.t (x int)`);

    await provision();
  }, 120_000);

  afterAll(stopOwnPostgres);

  it('hands every database and what the old role owned in it to the new owners, and drops it', async () => {
    const admin = (db: string) => `postgres://postgres@127.0.0.1:${OWN_PG_PORT}/${db}`;
    const owners = `SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner
                      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname IN ('public', 's') AND c.relkind IN ('r', 'S', 'v')
                     ORDER BY 1`;
    expect(await query(admin('payment'), owners)).toEqual([
      { name: 'account_ids', owner: 'payment' },
      { name: 'accounts', owner: 'payment' },
      { name: 'accounts_id_seq', owner: 'payment' },
    ]);
    expect(await query(admin('orders_0'), owners)).toEqual([{ name: 'orders', owner: 'order' }]);
    expect(await query(admin('test_saga'), owners)).toEqual([{ name: 't', owner: 'tests' }]);
    expect(
      await query(
        admin('postgres'),
        `SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database
          WHERE datname NOT IN ('postgres', 'template0', 'template1') ORDER BY 1`,
      ),
    ).toEqual([
      { datname: 'inventory', owner: 'inventory' },
      { datname: 'orders_0', owner: 'order' },
      { datname: 'orders_1', owner: 'order' },
      { datname: 'orders_2', owner: 'order' },
      { datname: 'payment', owner: 'payment' },
      { datname: 'test_saga', owner: 'tests' },
    ]);
    expect(await query(admin('postgres'), `SELECT 1 FROM pg_roles WHERE rolname = 'app'`)).toEqual(
      [],
    );
  });

  it('lets each role in with its password only, and only to its own databases', async () => {
    const order = ownSecret('postgres-order');
    const payment = ownSecret('postgres-payment');
    expect(await connectOutcome(ownUrl('order', order, 'orders_1'))).toBe('connected');
    expect(await connectOutcome(ownUrl('payment', payment, 'payment'))).toBe('connected');
    expect(await connectOutcome(ownUrl('order', 'wrong', 'orders_1'))).toBe(INVALID_PASSWORD);
    // No password at all: the server asks for one, which the client does not have.
    expect(await connectOutcome(`postgres://payment@127.0.0.1:${OWN_PG_PORT}/payment`)).toMatch(
      /password/,
    );
    expect(await connectOutcome(ownUrl('order', order, 'payment'))).toBe(PERMISSION_DENIED);
    expect(await connectOutcome(ownUrl('payment', payment, 'orders_0'))).toBe(PERMISSION_DENIED);
    expect(await connectOutcome(ownUrl('app', 'app', 'payment'))).toBe(INVALID_PASSWORD);
  });

  it('changes nothing when run again', async () => {
    const { stdout } = await provision();
    expect(stdout).toContain('roles order payment inventory tests');
    expect(await connectOutcome(ownUrl('order', ownSecret('postgres-order'), 'orders_2'))).toBe(
      'connected',
    );
  }, 60_000);
});

describe('scripts/infra/redis.sh', () => {
  const url = `redis://127.0.0.1:${OWN_REDIS_PORT}`;
  const redisScript = (command: string) =>
    run('bash', ['scripts/infra/redis.sh', command, String(OWN_REDIS_PORT)], {
      cwd: REPO_ROOT,
      env: scriptEnv,
    });

  afterAll(async () => {
    await redisScript('stop').catch(() => undefined);
  });

  it('starts a node that requires the password, and sets it on a node of its own that had none', async () => {
    // A node as the earlier script started it: ours (its pidfile), no password.
    const dir = join(OWN_DIR, 'redis', String(OWN_REDIS_PORT));
    mkdirSync(dir, { recursive: true });
    await run('redis-server', [
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '--port',
      String(OWN_REDIS_PORT),
      '--save',
      '',
      '--appendonly',
      'no',
      '--pidfile',
      join(dir, 'redis.pid'),
    ]);
    for (let i = 0; i < 50 && (await ping(url)) !== 'PONG'; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await ping(url)).toBe('PONG');

    expect((await redisScript('start')).stdout).toContain('password set now');
    const password = ownSecret('redis');
    expect(await ping(url)).toBe('NOAUTH');
    expect(await ping(withPassword(url, password))).toBe('PONG');

    await redisScript('stop');
    expect((await redisScript('start')).stdout).toContain('started');
    expect(await ping(url)).toBe('NOAUTH');
    expect(await ping(withPassword(url, 'not-the-password'))).toBe('WRONGPASS');
    expect(await ping(withPassword(url, password))).toBe('PONG');
  }, 60_000);
});
