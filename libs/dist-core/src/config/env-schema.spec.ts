import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ConfigError, env, loadConfig } from './env-schema.js';
import { DEFAULTS, sharedConfig } from './defaults.js';

/** A secrets folder as infra:up leaves it, with the secrets this schema's defaults need. */
const secrets = mkdtempSync(join(tmpdir(), 'env-schema-secrets-'));
writeFileSync(join(secrets, 'postgres-order'), 'pw/order+1\n');
writeFileSync(join(secrets, 'redis'), 'redis-pw\n');
writeFileSync(join(secrets, 'kafka-order'), 'order-secret\n');
const native = { SECRETS_DIR: secrets };
afterAll(() => rmSync(secrets, { recursive: true, force: true }));

const schema = {
  ...sharedConfig('order'),
  ORDER_PORT: env.port(DEFAULTS.ORDER_PORT),
  ORDER_DB_SHARDS: env.postgresUrls(DEFAULTS.ORDER_DB_SHARDS),
};

function errorOf(source: NodeJS.ProcessEnv): string {
  try {
    loadConfig(schema, { ...native, ...source });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the native defaults, with the generated passwords, when nothing is set', () => {
    const config = loadConfig(schema, native);
    expect(config.ORDER_PORT).toBe(3000);
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.KAFKA_USERNAME).toBe('order');
    expect(config.KAFKA_PASSWORD).toBe('order-secret');
    expect(config.REDIS_NODES).toEqual([
      'redis://:redis-pw@127.0.0.1:6379',
      'redis://:redis-pw@127.0.0.1:6380',
      'redis://:redis-pw@127.0.0.1:6381',
    ]);
    // The order service's own role; the password escaped for the URL, and found again by it.
    expect(config.ORDER_DB_SHARDS).toEqual([
      'postgres://order:pw%2Forder%2B1@127.0.0.1:5432/orders_0',
      'postgres://order:pw%2Forder%2B1@127.0.0.1:5432/orders_1',
      'postgres://order:pw%2Forder%2B1@127.0.0.1:5432/orders_2',
    ]);
    expect(decodeURIComponent(new URL(config.ORDER_DB_SHARDS[0]).password)).toBe('pw/order+1');
    expect(config.AUTH_ISSUER).toBe('http://127.0.0.1:3004');
    expect(config.AUTH_AUDIENCE).toBe('orders-api');
    expect(config.AUTH_JWKS_URL).toBeUndefined();
  });

  it('stops at a default whose secret infra:up has not generated, in one line', () => {
    const message = errorOf({ SECRETS_DIR: join(secrets, 'nothing-here') });
    expect(message).toMatch(
      /^Invalid configuration: KAFKA_PASSWORD is not set, and its default needs the secret kafka-order, which `npm run infra:up` generates \(none in .*nothing-here\)$/,
    );
  });

  it('needs no secret for a variable that is set', () => {
    const given = 'postgres://someone:pw@db:5432/orders_0';
    const config = loadConfig(schema, {
      SECRETS_DIR: join(secrets, 'nothing-here'),
      KAFKA_PASSWORD: 'given',
      REDIS_NODES: 'redis://127.0.0.1:6379',
      ORDER_DB_SHARDS: given,
    });
    expect(config.ORDER_DB_SHARDS).toEqual([given]);
  });

  it('never shows a password in the error', () => {
    const message = errorOf({ ORDER_DB_SHARDS: 'mysql://order:s3cret@db/orders_0' });
    expect(message).toBe(
      'Invalid configuration: ORDER_DB_SHARDS must use postgres: or postgresql:, got "mysql://order:***@db/orders_0"',
    );
  });

  it('reads and trims given values', () => {
    const config = loadConfig(schema, {
      ...native,
      ORDER_PORT: ' 8080 ',
      KAFKA_BROKERS: 'kafka:9092, k2:9093',
    });
    expect(config.ORDER_PORT).toBe(8080);
    expect(config.KAFKA_BROKERS).toEqual(['kafka:9092', 'k2:9093']);
  });

  it.each([
    [{ ORDER_PORT: 'abc' }, 'ORDER_PORT must be a whole number from 1 to 65535, got "abc"'],
    [{ ORDER_PORT: '70000' }, 'ORDER_PORT must be a whole number'],
    [{ ORDER_PORT: '30.5' }, 'ORDER_PORT must be a whole number'],
    [{ KAFKA_BROKERS: 'localhost' }, 'KAFKA_BROKERS must be a comma-separated list of host:port'],
    [
      { KAFKA_BROKERS: 'a:1,,b:2' },
      'KAFKA_BROKERS must be a comma-separated list with no empty entries',
    ],
    [{ REDIS_NODES: 'http://x:6379' }, 'REDIS_NODES must use redis: or rediss:'],
    [{ REDIS_NODES: 'redis://a:1,redis://a:1' }, 'REDIS_NODES must not list the same node twice'],
    [{ ORDER_DB_SHARDS: 'not a url' }, 'ORDER_DB_SHARDS must be a URL'],
    [{ AUTH_ISSUER: 'ftp://issuer' }, 'AUTH_ISSUER must use http: or https:'],
    [{ AUTH_AUDIENCE: 'orders api' }, 'AUTH_AUDIENCE must be 1-255 printable ASCII'],
    [{ AUTH_JWKS_URL: 'issuer/jwks' }, 'AUTH_JWKS_URL must be a URL'],
  ])('names the variable in one line for %j', (source, expected) => {
    const message = errorOf(source);
    expect(message).toContain(expected);
    expect(message).not.toContain('\n');
  });

  it('takes the Kafka principal from the environment over the local secret', () => {
    const config = loadConfig(schema, {
      ...native,
      KAFKA_USERNAME: 'ops',
      KAFKA_PASSWORD: 'given',
    });
    expect(config.KAFKA_USERNAME).toBe('ops');
    expect(config.KAFKA_PASSWORD).toBe('given');
  });

  it('says where the Kafka password comes from when there is none', () => {
    // No kafka-payment in the secrets folder.
    expect(() => loadConfig(sharedConfig('payment'), native)).toThrow(
      /^Invalid configuration: KAFKA_PASSWORD is not set, and its default needs the secret kafka-payment, which `npm run infra:up` generates \(none in /,
    );
  });

  it('requires a variable that has no default', () => {
    expect(() =>
      loadConfig({ SECRET: env.postgresUrl(undefined as unknown as string) }, {}),
    ).toThrow('SECRET is required but not set');
  });
});
