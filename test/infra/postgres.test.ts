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
