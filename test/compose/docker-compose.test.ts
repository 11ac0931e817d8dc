// No Docker engine runs on the development and CI machines, so docker-compose.yml is checked
// by reading it: against each service's configuration schema and against CONTRACT.md's ports.
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadConfig, type EnvSchema } from '@app/dist-core/config';
import { inventoryConfig } from '../../apps/inventory/src/config.js';
import { orderConfig } from '../../apps/order/src/config.js';
import { paymentConfig } from '../../apps/payment/src/config.js';

interface ComposeService {
  image?: string;
  profiles?: string[];
  volumes?: string[];
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  healthcheck?: { test: string[] };
  restart?: string;
  mem_limit?: string;
}

const COMPOSE_TEXT = readFileSync('docker-compose.yml', 'utf8');
/** `${NAME}` and `${NAME:?message}`: what docker compose fills in from the environment and .env. */
const VARIABLE = /\$\{([A-Z_]+)(:\?[^}]*)?\}/g;
const variables = new Set([...COMPOSE_TEXT.matchAll(VARIABLE)].map((match) => match[1]));
/** The file as docker compose sees it, each variable given a made-up value. */
const compose = parse(
  COMPOSE_TEXT.replace(VARIABLE, (_all, name: string) => `test-${name.toLowerCase()}`),
  { merge: true },
) as { services: Record<string, ComposeService> };
const services = compose.services;

const APPS: [string, EnvSchema, string, number][] = [
  ['order', orderConfig, 'ORDER_PORT', 3000],
  ['payment', paymentConfig, 'PAYMENT_PORT', 3001],
  ['inventory', inventoryConfig, 'INVENTORY_PORT', 3002],
];

const OBSERVABILITY = ['jaeger', 'prometheus', 'grafana'];

/**
 * The service's own configuration: OTEL_* variables are read by the OpenTelemetry SDK, not by
 * the service's schema, and name an optional sink (Jaeger runs only under its profile).
 */
function ownEnvironment(service: ComposeService): Record<string, string | number> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).filter(([name]) => !name.startsWith('OTEL_')),
  );
}

/**
 * The variables that name servers the service connects to. AUTH_ISSUER is not one of them: it
 * is the issuer's identifier as browsers reach it; containers fetch its keys at AUTH_JWKS_URL.
 */
const SERVER_VARIABLES = [
  'KAFKA_BROKERS',
  'REDIS_NODES',
  'ORDER_DB_SHARDS',
  'PAYMENT_DB_URL',
  'INVENTORY_DB_URL',
  'AUTH_JWKS_URL',
];

/** Host names the service's configuration points at: brokers, Redis nodes, databases, issuer. */
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
      const environment = ownEnvironment(services[name]);
      // Every variable whose default points at the native infrastructure (127.0.0.1) must be
      // set: inside a container that address is the container itself. Tuning knobs may default.
      // A default computed from infra:up's local secrets (a URL with a password) is native too.
      const required = Object.entries(schema).filter(
        ([, field]) =>
          typeof field.defaultText === 'function' || field.defaultText?.includes('127.0.0.1'),
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
        '--max-old-space-size=128',
        `dist/apps/${name}/main.js`,
      ]);
    },
  );

  it.each(APPS)('%s depends, healthy, on every server its configuration names', (name) => {
    const service = services[name];
    const hosts = Object.entries(ownEnvironment(service))
      .filter(([variable]) => SERVER_VARIABLES.includes(variable))
      .flatMap(([, value]) => hostsIn(value));
    expect(hosts).toContain('kafka');
    expect(hosts).toContain('issuer');
    for (const host of hosts) {
      expect(services[host]).toBeDefined();
      expect(service.depends_on?.[host]).toEqual({ condition: 'service_healthy' });
    }
  });

  it('refers only to services that exist, each with a healthcheck, a pinned image and a memory limit', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dependency of Object.keys(service.depends_on ?? {}))
        expect(services[dependency]).toBeDefined();
      // A one-shot step (never restarted) is waited for by its exit status instead.
      if (service.restart !== 'no') expect(service.healthcheck?.test.length).toBeGreaterThan(0);
      expect(service.mem_limit).toMatch(/^\d+[mg]$/);
      if (!service.build) expect(service.image).toMatch(/^[\w./-]+:v?\d+(\.\d+)+[\w.-]*$/);
      expect(name).toMatch(/^[a-z0-9-]+$/);
    }
  });

  it('runs each order shard on its own Postgres server', () => {
    const shards = String(services.order.environment?.ORDER_DB_SHARDS).split(',');
    expect(shards).toHaveLength(3);
    expect(new Set(shards.map((url) => new URL(url).hostname)).size).toBe(3);
  });

  describe('credentials', () => {
    const need = ':?run npm run compose:env}';

    it('come from the environment (.env), each variable required, listed in .env.example and generated', () => {
      const example = readFileSync('.env.example', 'utf8');
      const generator = readFileSync('scripts/compose-env.sh', 'utf8');
      expect([...variables].sort()).toEqual([
        'GRAFANA_ADMIN_PASSWORD',
        'ISSUER_OPERATOR_PASSWORD',
        'ISSUER_TOOLS_SECRET',
        'KAFKA_ADMIN_PASSWORD',
        'KAFKA_INVENTORY_PASSWORD',
        'KAFKA_ORDER_PASSWORD',
        'KAFKA_PAYMENT_PASSWORD',
        'POSTGRES_INVENTORY_PASSWORD',
        'POSTGRES_ORDER_PASSWORD',
        'POSTGRES_PAYMENT_PASSWORD',
        'POSTGRES_SUPERUSER_PASSWORD',
        'REDIS_PASSWORD',
      ]);
      for (const name of variables) {
        // Empty in the example: a copied .env.example must not start anything with a known password.
        expect(example).toMatch(new RegExp(`^${name}=$`, 'm'));
        expect(generator).toMatch(new RegExp(`^${name}=\\$\\(secret [a-z-]+\\)$`, 'm'));
      }
      expect(
        [...COMPOSE_TEXT.matchAll(VARIABLE)].every((match) => match[2] === need.slice(0, -1)),
      ).toBe(true);
    });

    it('are never committed nor copied into the image', () => {
      // git check-ignore exits 0 for an ignored path.
      expect(execFileSync('git', ['check-ignore', '.env']).toString().trim()).toBe('.env');
      expect(readFileSync('.dockerignore', 'utf8').split('\n')).toContain('.env');
    });

    it('give each service its own Postgres role, and the superuser a password of its own', () => {
      const roles: Record<string, [string, string]> = {
        'orders-db-0': ['order', 'orders_0'],
        'orders-db-1': ['order', 'orders_1'],
        'orders-db-2': ['order', 'orders_2'],
        'payment-db': ['payment', 'payment'],
        'inventory-db': ['inventory', 'inventory'],
      };
      for (const [db, [role, database]] of Object.entries(roles)) {
        expect(services[db].environment).toEqual({
          POSTGRES_PASSWORD: 'test-postgres_superuser_password',
          POSTGRES_DB: database,
          SERVICE_ROLE: role,
          SERVICE_PASSWORD: `test-postgres_${role}_password`,
        });
        expect(services[db].volumes).toEqual([
          './deploy/postgres/service-role.sh:/docker-entrypoint-initdb.d/service-role.sh:ro',
        ]);
        // 2PC participants vote by PREPARE TRANSACTION, which max_prepared_transactions=0 refuses.
        expect(services[db].command?.join(' ')).toContain('max_prepared_transactions=200');
      }
      const urls = [
        ...String(services.order.environment?.ORDER_DB_SHARDS).split(','),
        String(services.payment.environment?.PAYMENT_DB_URL),
        String(services.inventory.environment?.INVENTORY_DB_URL),
      ].map((url) => new URL(url));
      expect(urls.map((url) => `${url.username}:${url.password}@${url.pathname}`)).toEqual([
        'order:test-postgres_order_password@/orders_0',
        'order:test-postgres_order_password@/orders_1',
        'order:test-postgres_order_password@/orders_2',
        'payment:test-postgres_payment_password@/payment',
        'inventory:test-postgres_inventory_password@/inventory',
      ]);
    });

    it('make every Redis node require the password the services send', () => {
      for (const name of ['redis-1', 'redis-2', 'redis-3']) {
        expect(services[name].command?.slice(-2)).toEqual(['--requirepass', 'test-redis_password']);
        expect(services[name].environment).toEqual({ REDISCLI_AUTH: 'test-redis_password' });
      }
      for (const url of String(services.order.environment?.REDIS_NODES).split(','))
        expect(new URL(url).password).toBe('test-redis_password');
    });

    it('sign each service in to Kafka as its own principal, which the broker is formatted with', () => {
      for (const [name] of APPS)
        expect(services[name].environment?.KAFKA_PASSWORD).toBe(`test-kafka_${name}_password`);
      expect(services.kafka.environment).toMatchObject({
        KAFKA_ADMIN_PASSWORD: 'test-kafka_admin_password',
        KAFKA_ORDER_PASSWORD: 'test-kafka_order_password',
        KAFKA_PAYMENT_PASSWORD: 'test-kafka_payment_password',
        KAFKA_INVENTORY_PASSWORD: 'test-kafka_inventory_password',
      });
      expect(services['kafka-access'].environment).toEqual({
        KAFKA_ADMIN_PASSWORD: 'test-kafka_admin_password',
      });
    });

    it("set Grafana's admin password", () => {
      expect(services.grafana.environment?.GF_SECURITY_ADMIN_PASSWORD).toBe(
        'test-grafana_admin_password',
      );
    });
  });

  it('runs three independent Redis nodes', () => {
    const nodes = String(services.order.environment?.REDIS_NODES).split(',');
    expect(new Set(nodes.map((url) => new URL(url).hostname)).size).toBe(3);
  });

  describe('the observability profile', () => {
    const deploy = 'deploy/observability';

    it('runs Jaeger, Prometheus and Grafana only under the profile, the rest always', () => {
      for (const [name, service] of Object.entries(services)) {
        expect({ name, profiles: service.profiles }).toEqual({
          name,
          profiles: OBSERVABILITY.includes(name) ? ['observability'] : undefined,
        });
      }
      // Nothing started by default may wait for a service that only the profile starts.
      for (const [name, service] of Object.entries(services)) {
        if (OBSERVABILITY.includes(name)) continue;
        for (const dependency of Object.keys(service.depends_on ?? {}))
          expect(OBSERVABILITY).not.toContain(dependency);
      }
    });

    it('publishes Jaeger 16686 and 4318, Prometheus 9090 and Grafana on 3003, on 127.0.0.1 only, clear of 3000-3002', () => {
      expect(services.jaeger.ports).toEqual(['127.0.0.1:16686:16686', '127.0.0.1:4318:4318']);
      expect(services.prometheus.ports).toEqual(['127.0.0.1:9090:9090']);
      expect(services.grafana.ports).toEqual(['127.0.0.1:3003:3000']);
      const hostPorts = Object.values(services).flatMap((s) =>
        (s.ports ?? []).map((p) => p.split(':').at(-2)),
      );
      expect(new Set(hostPorts).size).toBe(hostPorts.length);
    });

    it.each(APPS)('%s exports traces only when asked to (empty endpoint by default)', (name) => {
      // Without the profile there is no Jaeger to export to; the README's profile command sets
      // OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4318.
      expect(services[name].environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(
        '${OTEL_EXPORTER_OTLP_ENDPOINT:-}',
      );
    });

    it("mounts a Prometheus configuration that scrapes each service's /metrics", () => {
      expect(services.prometheus.volumes).toEqual([
        `./${deploy}/prometheus.yml:/etc/prometheus/prometheus.yml:ro`,
      ]);
      const config = parse(readFileSync(`${deploy}/prometheus.yml`, 'utf8')) as {
        scrape_configs: { metrics_path?: string; static_configs: { targets: string[] }[] }[];
      };
      const targets = config.scrape_configs.flatMap((job) =>
        job.static_configs.flatMap((c) => c.targets.map((t) => `${t}${job.metrics_path}`)),
      );
      expect(targets.sort()).toEqual(
        APPS.map(([name, , , port]) => `${name}:${port}/metrics`).sort(),
      );
    });

    it('provisions Grafana with the Prometheus datasource and the dashboard', () => {
      const [provisioning, dashboards] = services.grafana.volumes ?? [];
      expect(provisioning).toBe(`./${deploy}/grafana/provisioning:/etc/grafana/provisioning:ro`);
      expect(dashboards).toBe(`./${deploy}/grafana/dashboards:/var/lib/grafana/dashboards:ro`);
      const datasources = parse(
        readFileSync(`${deploy}/grafana/provisioning/datasources/prometheus.yml`, 'utf8'),
      ) as { datasources: { uid: string; type: string; url: string }[] };
      expect(datasources.datasources).toEqual([
        expect.objectContaining({
          uid: 'prometheus',
          type: 'prometheus',
          url: 'http://prometheus:9090',
        }),
      ]);
      const providers = parse(
        readFileSync(`${deploy}/grafana/provisioning/dashboards/dashboards.yml`, 'utf8'),
      ) as { providers: { options: { path: string } }[] };
      expect(providers.providers.map((p) => p.options.path)).toEqual([
        '/var/lib/grafana/dashboards',
      ]);
    });

    it('has a valid dashboard with the panels the issue asks for', () => {
      const dashboard = JSON.parse(
        readFileSync(`${deploy}/grafana/dashboards/orders.json`, 'utf8'),
      ) as {
        uid: string;
        panels: {
          id: number;
          type: string;
          title: string;
          datasource?: { uid: string };
          targets?: { expr: string }[];
        }[];
      };
      expect(services.grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(
        '/var/lib/grafana/dashboards/orders.json',
      );
      const ids = dashboard.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      const queries = dashboard.panels.filter((p) => p.type !== 'row');
      for (const panel of queries) {
        expect(panel.datasource?.uid).toBe('prometheus');
        expect(panel.targets?.length).toBeGreaterThan(0);
      }
      const exprOf = (title: RegExp) =>
        queries
          .filter((p) => title.test(p.title))
          .flatMap((p) => p.targets!.map((t) => t.expr))
          .join('\n');
      // What each panel must show (the metric names are checked against a running service in
      // test/metrics/metrics.test.ts).
      expect(exprOf(/^Orders by strategy and status$/)).toMatch(
        /by \(strategy, status\).*orders\{/,
      );
      expect(exprOf(/^Step latency/)).toMatch(
        /histogram_quantile\(.*flow_step_duration_seconds_bucket\{/,
      );
      expect(exprOf(/^Outbox lag/)).toMatch(/outbox_oldest_unsent_age_seconds\{/);
      expect(exprOf(/^Dead letters/)).toMatch(/kafka_dead_letters_total\{/);
      expect(exprOf(/^PARKED sagas$/)).toMatch(/sagas_parked\{/);
    });
  });
});
