// deploy/k8s as a cluster would receive it: the base and every overlay rendered with
// `kubectl kustomize` (from a copy, with secrets that generate-secrets.sh writes there), each
// object validated against the Kubernetes API schemas offline (kubernetes-models: the API's
// OpenAPI definitions compiled to validators, from the npm registry like any dependency), then
// the project's own rules: locked-down pods, probes on /health/live and /health/ready, two or
// more replicas, a configuration each service's own schema accepts, no credential outside a
// generated Secret, and NetworkPolicies under which each pod reaches only what it uses.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment, StatefulSet, type IDeployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ConfigMap,
  Namespace,
  Secret,
  Service,
  type IContainer,
  type IPodTemplateSpec,
} from 'kubernetes-models/v1';
import { loadConfig, type EnvSchema } from '@app/dist-core/config';
import { inventoryConfig } from '../../apps/inventory/src/config.js';
import { orderConfig } from '../../apps/order/src/config.js';
import { paymentConfig } from '../../apps/payment/src/config.js';
import { allows, selects, type Endpoint, type NetworkPolicySpec } from './network-policy.js';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // Read through the typed views below (workloads, policies), never directly.
  spec?: unknown;
  data?: Record<string, string>;
}

const RENDERS = ['base', 'dev', 'managed'] as const;
type Render = (typeof RENDERS)[number];
const OVERLAYS = ['dev', 'managed'] as const;

const SERVICES: [string, EnvSchema, number][] = [
  ['order', orderConfig, 3000],
  ['payment', paymentConfig, 3001],
  ['inventory', inventoryConfig, 3002],
];

/** The schema of every kind the manifests use; any other kind fails the test. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

let workdir: string;
const rendered = {} as Record<Render, K8sObject[]>;
/** Each overlay's generated secret files: name → content. */
const generated = {} as Record<(typeof OVERLAYS)[number], Map<string, string>>;

beforeAll(() => {
  workdir = mkdtempSync(join(tmpdir(), 'k8s-render-'));
  cpSync('deploy/k8s', workdir, {
    recursive: true,
    filter: (source) => basename(source) !== 'secrets',
  });
  for (const overlay of OVERLAYS) {
    execFileSync('bash', ['deploy/k8s/generate-secrets.sh', overlay], {
      env: { ...process.env, OVERLAYS_DIR: join(workdir, 'overlays') },
      stdio: 'pipe',
    });
    const dir = join(workdir, 'overlays', overlay, 'secrets');
    generated[overlay] = new Map(
      readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]),
    );
  }
  for (const render of RENDERS) {
    const dir = render === 'base' ? join(workdir, 'base') : join(workdir, 'overlays', render);
    const yaml = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    rendered[render] = parseAllDocuments(yaml).map((document) => {
      const object = document.toJS() as K8sObject;
      // kustomize folds long base64 over several lines; the API server's decoder (Go's
      // encoding/base64) skips line breaks, the schema's "byte" pattern does not.
      if (object.kind === 'Secret')
        for (const key of Object.keys(object.data ?? {}))
          object.data![key] = object.data![key].replace(/\s+/g, '');
      return object;
    });
  }
});

afterAll(() => {
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

const id = (object: K8sObject) => `${object.kind}/${object.metadata.name}`;

function find(render: Render, kind: string, name: string): K8sObject {
  const object = rendered[render].find((o) => o.kind === kind && o.metadata.name === name);
  if (!object) throw new Error(`${render} renders no ${kind}/${name}`);
  return object;
}

/** Generated ConfigMaps and Secrets carry a content hash: `orders-config-5f8…`. */
function findGenerated(render: Render, kind: string, name: string): K8sObject {
  const object = rendered[render].find(
    (o) => o.kind === kind && o.metadata.name.replace(/-[a-z0-9]{10}$/, '') === name,
  );
  if (!object) throw new Error(`${render} renders no ${kind} ${name}-<hash>`);
  return object;
}

/** Every pod template: Deployments, StatefulSets and Jobs. */
function workloads(render: Render): { object: K8sObject; template: IPodTemplateSpec }[] {
  return rendered[render]
    .filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
    .map((object) => ({
      object,
      template: (object.spec as { template: IPodTemplateSpec }).template,
    }));
}

function containersOf(template: IPodTemplateSpec): IContainer[] {
  return [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])];
}

/** "256Mi" → bytes (the suffixes these manifests use). */
function bytes(quantity: string | number | undefined): number {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(String(quantity));
  if (!match) throw new Error(`unexpected quantity ${quantity}`);
  const unit: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };
  return Number(match[1]) * (match[2] ? unit[match[2]] : 1);
}

/**
 * A container's environment as the kubelet builds it: envFrom ConfigMaps first, then env in
 * order, each $(NAME) replaced by a variable defined before it; a secretKeyRef reads the
 * rendered Secret. Returns the names left unresolved as well.
 */
function environmentOf(render: Render, container: IContainer) {
  const env: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name ?? '';
    Object.assign(env, find(render, 'ConfigMap', name).data);
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref) {
      const data = find(render, 'Secret', ref.name ?? '').data ?? {};
      if (!(ref.key in data))
        unresolved.push(`${variable.name} (no key ${ref.key} in ${ref.name})`);
      env[variable.name] = Buffer.from(data[ref.key] ?? '', 'base64').toString('utf8');
      continue;
    }
    env[variable.name] = (variable.value ?? '').replace(
      /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
      (all, name) => {
        if (name in env) return env[name];
        unresolved.push(`${variable.name} uses $(${name})`);
        return all;
      },
    );
  }
  return { env, unresolved };
}

describe.each(RENDERS)('deploy/k8s %s, rendered by kubectl kustomize', (render) => {
  it('is valid against the Kubernetes API schemas, kind by kind', () => {
    const problems: string[] = [];
    for (const object of rendered[render]) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      if (!Model) {
        problems.push(`${id(object)}: no schema for ${object.apiVersion} ${object.kind}`);
        continue;
      }
      try {
        new Model(object as never).validate();
      } catch (error) {
        problems.push(`${id(object)}: ${(error as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
    expect(rendered[render].length).toBeGreaterThan(10);
  });

  it('puts everything in the orders namespace, whose pods must meet the restricted profile', () => {
    const namespace = find(render, 'Namespace', 'orders');
    expect(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    for (const object of rendered[render].filter((o) => o.kind !== 'Namespace'))
      expect({ object: id(object), namespace: object.metadata.namespace }).toEqual({
        object: id(object),
        namespace: 'orders',
      });
  });

  it('runs every container non-root, read-only, without privilege escalation or capabilities, under seccomp, with memory limits', () => {
    const found = workloads(render);
    expect(found.length).toBeGreaterThanOrEqual(3);
    for (const { object, template } of found) {
      const pod = template.spec?.securityContext;
      expect({ pod: id(object), automount: template.spec?.automountServiceAccountToken }).toEqual({
        pod: id(object),
        automount: false,
      });
      for (const container of containersOf(template)) {
        const context = container.securityContext;
        expect({
          container: `${id(object)}/${container.name}`,
          runAsNonRoot: context?.runAsNonRoot ?? pod?.runAsNonRoot,
          rootUser: (context?.runAsUser ?? pod?.runAsUser ?? 0) === 0,
          readOnlyRootFilesystem: context?.readOnlyRootFilesystem,
          allowPrivilegeEscalation: context?.allowPrivilegeEscalation,
          dropped: context?.capabilities?.drop,
          added: context?.capabilities?.add ?? [],
          seccomp: (context?.seccompProfile ?? pod?.seccompProfile)?.type,
          memoryLimit: container.resources?.limits?.memory !== undefined,
          requests: Object.keys(container.resources?.requests ?? {}).sort(),
        }).toEqual({
          container: `${id(object)}/${container.name}`,
          runAsNonRoot: true,
          rootUser: false,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          dropped: ['ALL'],
          added: [],
          seccomp: 'RuntimeDefault',
          memoryLimit: true,
          requests: ['cpu', 'memory'],
        });
      }
    }
  });

  it('holds no credential outside a generated Secret', () => {
    const secrets = rendered[render].filter((o) => o.kind === 'Secret');
    if (render === 'base') expect(secrets).toEqual([]);
    else {
      // Every Secret holds exactly the files generate-secrets.sh wrote.
      const files = generated[render];
      for (const secret of secrets)
        for (const [key, value] of Object.entries(secret.data ?? {}))
          expect({ key, value: Buffer.from(value, 'base64').toString('utf8') }).toEqual({
            key,
            value: files.get(key),
          });
    }
    const others = rendered[render].filter((o) => o.kind !== 'Secret');
    const text = JSON.stringify(others);
    for (const value of render === 'base' ? [] : generated[render].values()) {
      expect(text).not.toContain(value);
      expect(text).not.toContain(Buffer.from(value).toString('base64'));
    }
    // A password in a URL is always a $(VARIABLE) filled from a Secret at start.
    for (const [, password] of text.matchAll(/:\/\/[^:/@"\s\\]*:([^@"\s\\]+)@/g))
      expect(password).toMatch(/^\$\([A-Z_]+\)$/);
    for (const { object, template } of workloads(render))
      for (const container of containersOf(template))
        for (const variable of container.env ?? [])
          if (/PASSWORD|SECRET$|TOKEN|AUTH$/.test(variable.name))
            expect({ variable: `${id(object)}/${variable.name}`, value: variable.value }).toEqual({
              variable: `${id(object)}/${variable.name}`,
              value: undefined,
            });
  });

  it.each(SERVICES)(
    'runs %s with 2+ replicas, probes on /health/live and /health/ready, a PDB and an HPA',
    (name, _schema, port) => {
      const deployment = find(render, 'Deployment', name) as IDeployment & K8sObject;
      expect(deployment.spec?.replicas).toBeGreaterThanOrEqual(2);
      const [container] = deployment.spec?.template.spec?.containers ?? [];
      expect(container.command).toEqual([
        'node',
        '--max-old-space-size=128',
        `dist/apps/${name}/main.js`,
      ]);
      expect(container.ports).toEqual([{ name: 'http', containerPort: port }]);
      expect(container.startupProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(container.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(container.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      // Above the 165 MiB RSS the services peaked at under the benchmark's heaviest load.
      expect(bytes(container.resources?.limits?.memory)).toBeGreaterThan(165 * 2 ** 20);
      expect(bytes(container.resources?.requests?.memory)).toBeGreaterThan(150 * 2 ** 20);

      const labels = deployment.spec?.template.metadata?.labels ?? {};
      const pdb = find(render, 'PodDisruptionBudget', name).spec as {
        maxUnavailable: number;
        selector: { matchLabels: Record<string, string> };
      };
      expect(selects(pdb.selector, labels)).toBe(true);
      expect(pdb.maxUnavailable).toBe(1);
      const hpa = find(render, 'HorizontalPodAutoscaler', name).spec as {
        scaleTargetRef: { kind: string; name: string };
        minReplicas: number;
        maxReplicas: number;
      };
      expect(hpa.scaleTargetRef).toMatchObject({ kind: 'Deployment', name });
      expect(hpa.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.maxReplicas).toBeGreaterThan(hpa.minReplicas);
      const service = find(render, 'Service', name).spec as {
        selector: Record<string, string>;
        ports: { port: number; targetPort: string }[];
      };
      expect(selects({ matchLabels: service.selector }, labels)).toBe(true);
      expect(service.ports).toEqual([{ name: 'http', port, targetPort: 'http' }]);
    },
  );

  it('denies by default and opens each service HTTP port', () => {
    const policies = rendered[render]
      .filter((o) => o.kind === 'NetworkPolicy')
      .map((o) => o.spec as NetworkPolicySpec);
    expect(policies).toContainEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const outside: Endpoint = {
      name: 'a client in another namespace',
      namespace: 'ingress',
      namespaceLabels: { 'kubernetes.io/metadata.name': 'ingress' },
      labels: {},
      ports: {},
    };
    for (const [name, , port] of SERVICES) {
      const pod = serviceEndpoint(render, name);
      expect({ name, allowed: allows(policies, 'orders', outside, pod, port) }).toEqual({
        name,
        allowed: true,
      });
      expect({ name, other: allows(policies, 'orders', outside, pod, port + 100) }).toEqual({
        name,
        other: false,
      });
    }
  });
});

function serviceEndpoint(render: Render, name: string): Endpoint {
  const { template } = workloads(render).find(({ object }) => object.metadata.name === name)!;
  return endpointOf(name, template);
}

function endpointOf(name: string, template: IPodTemplateSpec): Endpoint {
  const ports: Record<string, number> = {};
  for (const container of containersOf(template))
    for (const port of container.ports ?? []) ports[port.name ?? ''] = port.containerPort;
  return {
    name,
    namespace: 'orders',
    namespaceLabels: { 'kubernetes.io/metadata.name': 'orders' },
    labels: template.metadata?.labels ?? {},
    ports,
  };
}

describe.each(OVERLAYS)('overlays/%s', (overlay) => {
  it.each(SERVICES)(
    '%s gets every variable its configuration schema needs, and its own schema accepts them',
    (name, schema) => {
      const deployment = find(overlay, 'Deployment', name) as IDeployment & K8sObject;
      const [container] = deployment.spec?.template.spec?.containers ?? [];
      const { env, unresolved } = environmentOf(overlay, container);
      expect(unresolved).toEqual([]);
      // What points at the native infrastructure (127.0.0.1) by default must be set: in a pod
      // that address is the pod itself. A default built from infra:up's local secrets (a
      // function) is native too: a pod has no .infra/secrets.
      const required = Object.entries(schema)
        .filter(([, { defaultText }]) =>
          typeof defaultText === 'function' ? true : defaultText?.includes('127.0.0.1'),
        )
        .map(([variable]) => variable);
      expect(required.length).toBeGreaterThanOrEqual(3);
      for (const variable of required) expect(Object.keys(env)).toContain(variable);
      expect(() => loadConfig(schema, env)).not.toThrow();
      expect(env).toMatchObject({
        HOST: '0.0.0.0',
        KAFKA_USERNAME: name,
        AUTH_AUDIENCE: 'orders-api',
      });
      for (const variable of ['AUTH_ISSUER', 'AUTH_JWKS_URL', 'DEPLOYMENT', 'KAFKA_PASSWORD'])
        expect({ variable, set: (env[variable] ?? '') !== '' }).toEqual({ variable, set: true });
      // Each service signs in to Postgres as its own role, with its own password.
      const urls = (env.ORDER_DB_SHARDS ?? env.PAYMENT_DB_URL ?? env.INVENTORY_DB_URL).split(',');
      expect(urls.length).toBe(name === 'order' ? 3 : 1);
      for (const url of urls) {
        expect(new URL(url).username).toBe(name);
        expect(new URL(url).password).toBe(generated[overlay].get(`postgres-${name}`));
      }
      const redis = env.REDIS_NODES.split(',').map((url) => new URL(url));
      expect(new Set(redis.map((url) => url.host)).size).toBe(3);
      for (const url of redis) expect(url.password).toBe(generated[overlay].get('redis'));
      expect(env.KAFKA_PASSWORD).toBe(generated[overlay].get(`kafka-${name}`));
    },
  );

  it.each(SERVICES)('%s may reach the port of every server its configuration names', (name) => {
    const policies = rendered[overlay]
      .filter((o) => o.kind === 'NetworkPolicy')
      .map((o) => o.spec as NetworkPolicySpec);
    const pod = serviceEndpoint(overlay, name);
    const egress = policies.filter(
      (p) => p.policyTypes.includes('Egress') && selects(p.podSelector, pod.labels),
    );
    const deployment = find(overlay, 'Deployment', name) as IDeployment & K8sObject;
    const { env } = environmentOf(overlay, deployment.spec!.template.spec!.containers[0]);
    const servers = [
      ...env.KAFKA_BROKERS.split(',').map((broker) => new URL(`kafka://${broker}`)),
      ...(env.ORDER_DB_SHARDS ?? env.PAYMENT_DB_URL ?? env.INVENTORY_DB_URL)
        .split(',')
        .map((url) => new URL(url)),
      ...env.REDIS_NODES.split(',').map((url) => new URL(url)),
      new URL(env.AUTH_JWKS_URL),
    ];
    for (const server of servers) {
      const port = Number(server.port || (server.protocol === 'https:' ? 443 : 80));
      const open = egress.some((p) =>
        p.egress?.some((rule) => rule.ports?.some((p) => p.port === port) && rule.to?.length),
      );
      expect({ server: server.host, open }).toEqual({ server: server.host, open: true });
    }
    // No rule opens everything: every egress rule names its peers and ports.
    for (const rule of egress.flatMap((p) => p.egress ?? [])) {
      expect(rule.to?.length).toBeGreaterThan(0);
      expect(rule.ports?.length).toBeGreaterThan(0);
    }
  });

  it('refers only to ConfigMaps, Secrets and keys that it renders', () => {
    for (const { object, template } of workloads(overlay)) {
      for (const container of containersOf(template))
        expect({
          container: `${id(object)}/${container.name}`,
          unresolved: environmentOf(overlay, container).unresolved,
        }).toEqual({
          container: `${id(object)}/${container.name}`,
          unresolved: [],
        });
      for (const volume of template.spec?.volumes ?? []) {
        if (volume.configMap) find(overlay, 'ConfigMap', volume.configMap.name ?? '');
        if (volume.secret) find(overlay, 'Secret', volume.secret.secretName ?? '');
      }
    }
    findGenerated(overlay, 'ConfigMap', 'orders-endpoints');
  });
});

describe('overlays/dev, self-contained', () => {
  it('runs Kafka with SASL/SCRAM, Postgres with prepared transactions, three Redis with a password, the issuer', () => {
    const properties = findGenerated('dev', 'ConfigMap', 'kafka-files').data?.['server.properties'];
    expect(properties).toMatch(/^listener\.security\.protocol\.map=CLIENT:SASL_PLAINTEXT,/m);
    expect(properties).toMatch(/^sasl\.enabled\.mechanisms=SCRAM-SHA-512$/m);
    expect(properties).toMatch(/^allow\.everyone\.if\.no\.acl\.found=false$/m);
    for (const name of ['orders-db', 'payment-db', 'inventory-db']) {
      const { template } = workloads('dev').find(({ object }) => object.metadata.name === name)!;
      expect(template.spec?.containers[0].args?.join(' ')).toContain(
        'max_prepared_transactions=200',
      );
    }
    const redis = workloads('dev').find(({ object }) => object.metadata.name === 'redis')!;
    expect((redis.object.spec as { replicas: number }).replicas).toBe(3);
    expect(redis.template.spec?.containers[0].command?.join(' ')).toContain('requirepass');
    const issuer = workloads('dev').find(({ object }) => object.metadata.name === 'issuer')!;
    expect(issuer.template.spec?.containers[0].command).toEqual(['node', 'issuer/server.mjs']);
  });

  it('lets each pod reach exactly what it uses, and nothing else', () => {
    const policies = rendered.dev
      .filter((o) => o.kind === 'NetworkPolicy')
      .map((o) => o.spec as NetworkPolicySpec);
    const pods = workloads('dev').map(({ object, template }) =>
      endpointOf(object.metadata.name, template),
    );
    const outside: Endpoint = {
      name: 'outside',
      namespace: 'elsewhere',
      namespaceLabels: { 'kubernetes.io/metadata.name': 'elsewhere' },
      labels: {},
      ports: {},
    };
    const reachable: string[] = [];
    for (const from of [...pods, outside])
      for (const to of pods)
        for (const port of new Set(Object.values(to.ports)))
          if (allows(policies, 'orders', from, to, port))
            reachable.push(`${from.name} -> ${to.name}:${port}`);
    const uses = (service: string, db: string) => [
      `${service} -> kafka:9092`,
      `${service} -> ${db}:5432`,
      `${service} -> redis:6379`,
      `${service} -> issuer:3004`,
    ];
    expect(reachable.sort()).toEqual(
      [
        ...uses('order', 'orders-db'),
        ...uses('payment', 'payment-db'),
        ...uses('inventory', 'inventory-db'),
        'kafka-setup -> kafka:9092',
        'kafka -> kafka:9092',
        'outside -> order:3000',
        'outside -> payment:3001',
        'outside -> inventory:3002',
        'outside -> issuer:3004',
      ].sort(),
    );
  });
});

it('the schema validation is real: a broken Deployment fails it', () => {
  const deployment = structuredClone(find('dev', 'Deployment', 'order')) as unknown as IDeployment;
  deployment.spec!.replicas = 'two' as unknown as number;
  deployment.spec!.template.spec!.containers[0].resources!.limits!.memory = '256 MB';
  delete (deployment.spec as { selector?: unknown }).selector;
  const problems = (() => {
    try {
      new Deployment(deployment).validate();
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  })();
  expect(problems).toContain('spec must have required property selector');
  expect(problems).toContain('spec/replicas must be integer');
  expect(problems).toContain('limits/memory must match format "quantity"');
});
