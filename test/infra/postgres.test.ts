// Every database of `npm run infra:up` (or ORDER_DB_SHARDS, PAYMENT_DB_URL, INVENTORY_DB_URL)
// accepts its owner role's password login over TCP and lets it write and read a row: what each
// service's migrations and repositories need before anything else works.
import { afterAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { DEFAULTS, env, loadConfig } from '@app/dist-core/config';

const config = loadConfig({
  ORDER_DB_SHARDS: env.postgresUrls(DEFAULTS.ORDER_DB_SHARDS),
  PAYMENT_DB_URL: env.postgresUrl(DEFAULTS.PAYMENT_DB_URL),
  INVENTORY_DB_URL: env.postgresUrl(DEFAULTS.INVENTORY_DB_URL),
});

const databases: Array<[name: string, url: string]> = [
  ...config.ORDER_DB_SHARDS.map((url, shard): [string, string] => [`order shard ${shard}`, url]),
  ['payment', config.PAYMENT_DB_URL],
  ['inventory', config.INVENTORY_DB_URL],
];

describe('PostgreSQL databases', () => {
  const clients: pg.Client[] = [];

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end()));
  });

  it.each(databases)('%s: writes and reads back a row', async (name, url) => {
    const client = new pg.Client({ connectionString: url });
    clients.push(client);
    await client.connect();

    // A table in the public schema, as the services' migrations create: since PostgreSQL 15
    // only the database owner may do that, so this also checks who owns the database. DDL is
    // transactional here, so the rollback leaves nothing behind, even for a re-run.
    await client.query('BEGIN');
    await client.query(
      'CREATE TABLE public.infra_probe (id bigint PRIMARY KEY, note text NOT NULL)',
    );
    const id = '9007199254740993'; // above 2^53: a bigint must come back as the exact string
    await client.query('INSERT INTO public.infra_probe (id, note) VALUES ($1, $2)', [id, name]);
    const { rows } = await client.query('SELECT id, note FROM public.infra_probe');
    await client.query('ROLLBACK');

    expect(rows).toEqual([{ id, note: name }]);
  });
});

describe('PostgreSQL prepared transactions (2PC participants)', () => {
  // scripts/infra/postgres.sh raises it (docker-compose.yml and the k8s dev overlay set it too):
  // at 0, the default, every PREPARE TRANSACTION fails and no 2PC order could complete.
  const REQUIRED = 200;

  it.each(databases.filter(([name]) => name === 'payment' || name === 'inventory'))(
    '%s: max_prepared_transactions is in force and its role can prepare and roll back',
    async (name, url) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const gid = `infra-probe:${name}:${process.pid}:${Date.now()}`;
      try {
        const { rows } = await client.query<{ max_prepared_transactions: string }>(
          'SHOW max_prepared_transactions',
        );
        expect(Number(rows[0].max_prepared_transactions)).toBeGreaterThanOrEqual(REQUIRED);
        await client.query('BEGIN');
        await client.query('SELECT 1');
        await client.query(`PREPARE TRANSACTION '${gid}'`);
        const prepared = await client.query(
          'SELECT 1 FROM pg_prepared_xacts WHERE gid = $1 AND database = current_database()',
          [gid],
        );
        expect(prepared.rowCount).toBe(1);
      } finally {
        await client.query(`ROLLBACK PREPARED '${gid}'`).catch(() => undefined);
        await client.end();
      }
    },
  );
});
