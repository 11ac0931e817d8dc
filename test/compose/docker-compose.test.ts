// No Docker engine runs on the development and CI machines, so docker-compose.yml is checked
// by reading it: against each service's configuration schema and against CONTRACT.md's ports.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadConfig, type EnvSchema } from '@app/dist-core/config';
import { inventoryConfig } from '../../apps/inventory/src/config.js';
import { orderConfig } from '../../apps/order/src/config.js';
import { paymentConfig } from '../../apps/payment/src/config.js';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  healthcheck?: { test: string[] };
  mem_limit?: string;
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;

const APPS: [string, EnvSchema, string, number][] = [
  ['order', orderConfig, 'ORDER_PORT', 3000],
  ['payment', paymentConfig, 'PAYMENT_PORT', 3001],
  ['inventory', inventoryConfig, 'INVENTORY_PORT', 3002],
];

/** Host names the service's configuration points at: brokers, Redis nodes, databases. */
function hostsIn(value: string | number): string[] {
  return String(value)
    .split(',')
    .map((entry) => (entry.includes('://') ? new URL(entry).hostname : entry.split(':')[0]))
    .filter((host) => !/^\d+$/.test(host));
}

describe('docker-compose.yml', () => {
  it.each(APPS)(
    '%s sets every variable of its configuration schema, and each value is valid',
    (name, schema) => {
      const environment = services[name].environment ?? {};
      // Every variable whose default points at the native infrastructure (127.0.0.1) must be
      // set: inside a container that address is the container itself. Tuning knobs may default.
      const required = Object.entries(schema).filter(([, field]) =>
        field.defaultText?.includes('127.0.0.1'),
      );
      expect(required.length).toBeGreaterThanOrEqual(3);
      for (const [variable] of required) expect(Object.keys(environment)).toContain(variable);
      for (const variable of Object.keys(environment))
        expect(Object.keys(schema)).toContain(variable);
      const source = Object.fromEntries(
        Object.entries(environment).map(([k, v]) => [k, String(v)]),
      );
      expect(() => loadConfig(schema, source)).not.toThrow();
    },
  );

  it.each(APPS)(
    '%s publishes its CONTRACT.md port and listens on it',
    (name, _schema, portVariable, port) => {
      expect(services[name].environment?.[portVariable]).toBe(port);
      expect(services[name].ports).toEqual([`${port}:${port}`]);
      expect(services[name].command).toEqual([
        'node',
        '--enable-source-maps',
        `dist/apps/${name}/main.js`,
      ]);
    },
  );

  it.each(APPS)('%s depends, healthy, on every server its configuration names', (name) => {
    const service = services[name];
    const hosts = Object.values(service.environment ?? {}).flatMap(hostsIn);
    expect(hosts.length).toBeGreaterThan(0);
    for (const host of hosts) {
      expect(services[host]).toBeDefined();
      expect(service.depends_on?.[host]).toEqual({ condition: 'service_healthy' });
    }
  });

  it('refers only to services that exist, each with a healthcheck, a pinned image and a memory limit', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dependency of Object.keys(service.depends_on ?? {}))
        expect(services[dependency]).toBeDefined();
      expect(service.healthcheck?.test.length).toBeGreaterThan(0);
      expect(service.mem_limit).toMatch(/^\d+[mg]$/);
      if (!service.build) expect(service.image).toMatch(/^[\w./-]+:\d+(\.\d+)+[\w.-]*$/);
      expect(name).toMatch(/^[a-z0-9-]+$/);
    }
  });

  it('runs each order shard on its own Postgres server', () => {
    const shards = String(services.order.environment?.ORDER_DB_SHARDS).split(',');
    expect(shards).toHaveLength(3);
    expect(new Set(shards.map((url) => new URL(url).hostname)).size).toBe(3);
  });

  it('runs three independent Redis nodes', () => {
    const nodes = String(services.order.environment?.REDIS_NODES).split(',');
    expect(new Set(nodes.map((url) => new URL(url).hostname)).size).toBe(3);
  });
});
