import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError, env, loadConfig } from './env-schema.js';
import { DEFAULTS, sharedConfig } from './defaults.js';

// The local secrets infra:up would generate: a folder of this test's own (SECRETS_DIR).
const secrets = mkdtempSync(join(tmpdir(), 'env-schema-'));
const savedSecretsDir = process.env.SECRETS_DIR;
beforeAll(() => {
  process.env.SECRETS_DIR = secrets;
  writeFileSync(join(secrets, 'kafka-order'), 'order-secret\n');
});
afterAll(() => {
  if (savedSecretsDir === undefined) delete process.env.SECRETS_DIR;
  else process.env.SECRETS_DIR = savedSecretsDir;
  rmSync(secrets, { recursive: true, force: true });
});

const schema = {
  ...sharedConfig('order'),
  ORDER_PORT: env.port(DEFAULTS.ORDER_PORT),
  ORDER_DB_SHARDS: env.postgresUrls(DEFAULTS.ORDER_DB_SHARDS),
};

function errorOf(source: NodeJS.ProcessEnv): string {
  try {
    loadConfig(schema, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the native defaults when nothing is set', () => {
    const config = loadConfig(schema, {});
    expect(config.ORDER_PORT).toBe(3000);
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.KAFKA_USERNAME).toBe('order');
    expect(config.KAFKA_PASSWORD).toBe('order-secret');
    expect(config.REDIS_NODES).toHaveLength(3);
    expect(config.ORDER_DB_SHARDS).toEqual([
      'postgres://app:app@127.0.0.1:5432/orders_0',
      'postgres://app:app@127.0.0.1:5432/orders_1',
      'postgres://app:app@127.0.0.1:5432/orders_2',
    ]);
  });

  it('reads and trims given values', () => {
    const config = loadConfig(schema, {
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
  ])('names the variable in one line for %j', (source, expected) => {
    const message = errorOf(source);
    expect(message).toContain(expected);
    expect(message).not.toContain('\n');
  });

  it('takes the Kafka principal from the environment over the local secret', () => {
    const config = loadConfig(schema, { KAFKA_USERNAME: 'ops', KAFKA_PASSWORD: 'given' });
    expect(config.KAFKA_USERNAME).toBe('ops');
    expect(config.KAFKA_PASSWORD).toBe('given');
  });

  it('says where the Kafka password comes from when there is none', () => {
    // No kafka-payment in the secrets folder.
    expect(() => loadConfig(sharedConfig('payment'), {})).toThrow(
      'Invalid configuration: KAFKA_PASSWORD is not set and there is no local secret kafka-payment (`npm run infra:up` generates it)',
    );
  });

  it('requires a variable that has no default', () => {
    expect(() =>
      loadConfig({ SECRET: env.postgresUrl(undefined as unknown as string) }, {}),
    ).toThrow('SECRET is required but not set');
  });
});
