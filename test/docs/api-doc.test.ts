// docs/api.md is the API contract in the repository; this keeps it true. Against the three built
// services: every route a service serves (its OpenAPI document) has a row and every row a route;
// a row's success status and shape are the route's, and it lists every status the route declares;
// who may call a row is who the running guards let through; every shape's fields are its schema's.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { startService, testPort, type RunningService } from '../support/services.js';
import { ANONYMOUS, asCustomer, OPERATOR, type Caller } from '../support/tokens.js';

type Who = 'anyone' | 'operator' | 'signed in' | 'customer (own)';
const SERVICES = ['inventory', 'payment', 'order'] as const;
type Service = (typeof SERVICES)[number];

interface Row {
  service: Service | 'every';
  method: string;
  path: string;
  who: Who;
  statuses: number[];
  shape?: string;
}

/** The shapes of docs/api.md and the OpenAPI schema each one is. */
const SCHEMA_OF: Record<string, string> = {
  Product: 'ProductDto',
  Account: 'AccountDto',
  Order: 'OrderView',
  OrderList: 'OrderListView',
  ParkedSaga: 'ParkedSagaView',
  ParkedSagaList: 'ParkedSagaListView',
  Error: 'ErrorView',
};

const DOC = readFileSync('docs/api.md', 'utf8');

/** The route tables: the section (`## inventory (3002)`, `## Every service`) names the service. */
function documentedRoutes(): Row[] {
  const rows: Row[] = [];
  let service: Row['service'] | undefined;
  for (const line of DOC.split('\n')) {
    const section = /^## (\w+)/.exec(line)?.[1].toLowerCase();
    if (section) service = section === 'every' ? 'every' : (section as Service);
    const cells = line.split('|').map((cell) => cell.trim());
    if (!service || !/^(GET|POST|PUT|PATCH|DELETE)$/.test(cells[1] ?? '')) continue;
    const answers = cells[5];
    rows.push({
      service,
      method: cells[1],
      path: cells[2].replaceAll('`', ''),
      who: cells[3] as Who,
      statuses: [...answers.matchAll(/\b[1-5]\d\d\b/g)].map((match) => Number(match[0])),
      shape: /^\d{3} ([A-Z]\w+)/.exec(answers)?.[1],
    });
  }
  return rows.map((row) =>
    row.shape && !(row.shape in SCHEMA_OF) && row.shape !== 'Health'
      ? { ...row, shape: undefined }
      : row,
  );
}

/** The JSON example under each `### Shape` heading. */
function documentedShapes(): Map<string, Record<string, unknown>> {
  const shapes = new Map<string, Record<string, unknown>>();
  for (const match of DOC.matchAll(/^### (\w+)\n+```json\n([\s\S]*?)```/gm)) {
    shapes.set(match[1], JSON.parse(match[2]) as Record<string, unknown>);
  }
  return shapes;
}

interface OpenApi {
  paths: Record<
    string,
    Record<
      string,
      {
        responses: Record<
          string,
          { content?: { 'application/json'?: { schema?: { $ref?: string } } } }
        >;
      }
    >
  >;
  components: {
    schemas: Record<
      string,
      { properties?: Record<string, { items?: { $ref?: string }; $ref?: string }> }
    >;
  };
}

const asExpressPath = (openApiPath: string) => openApiPath.replace(/\{(\w+)\}/g, ':$1');
const schemaName = (ref?: string) => ref?.split('/').pop();

describe('docs/api.md', () => {
  const ports = { order: testPort(70), payment: testPort(71), inventory: testPort(72) };
  const services = {} as Record<Service, RunningService>;
  const openApi = {} as Record<Service, OpenApi>;
  const rows = documentedRoutes();
  const rowsOf = (service: Service) =>
    rows.filter((row) => row.service === service || row.service === 'every');

  beforeAll(async () => {
    services.order = startService('order', { ORDER_PORT: ports.order });
    services.payment = startService('payment', { PAYMENT_PORT: ports.payment });
    services.inventory = startService('inventory', { INVENTORY_PORT: ports.inventory });
    await Promise.all(Object.values(services).map((service) => service.waitForHealth(200)));
    for (const name of SERVICES) {
      openApi[name] = (await (await fetch(`${services[name].url}/docs-json`)).json()) as OpenApi;
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(Object.values(services).map((service) => service?.stop()));
  });

  it('has a table row for every route each service serves, and no other', () => {
    expect(rows.length).toBeGreaterThan(10);
    for (const name of SERVICES) {
      const served = Object.entries(openApi[name].paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${asExpressPath(path)}`),
      );
      const documented = rowsOf(name).map((row) => `${row.method} ${row.path}`);
      expect({ service: name, routes: documented.sort() }).toEqual({
        service: name,
        routes: served.sort(),
      });
    }
  });

  it("gives each route's success status and shape, and every status it declares", () => {
    for (const name of SERVICES) {
      for (const row of rowsOf(name)) {
        const path = row.path.replace(/:(\w+)/g, '{$1}');
        const responses = openApi[name].paths[path][row.method.toLowerCase()].responses;
        const declared = Object.keys(responses).map(Number);
        const where = `${name} ${row.method} ${row.path}`;
        expect({ where, first: row.statuses[0] }).toEqual({
          where,
          first: declared.find((status) => status < 300),
        });
        expect({ where, missing: declared.filter((s) => !row.statuses.includes(s)) }).toEqual({
          where,
          missing: [],
        });
        const success = responses[String(row.statuses[0])].content?.['application/json']?.schema;
        if (row.shape && row.shape !== 'Health') {
          expect({ where, schema: schemaName(success?.$ref) }).toEqual({
            where,
            schema: SCHEMA_OF[row.shape],
          });
        }
      }
    }
  });

  it("names who may call each route as the services' guards decide", async () => {
    const customer = `api-doc-${Date.now()}`;
    const concrete = (path: string) =>
      path.replace(':customerId', customer).replace(':sku', 'SKU-API-DOC').replace(':id', '1');
    for (const name of SERVICES) {
      for (const row of rowsOf(name)) {
        const where = `${name} ${row.method} ${row.path} (${row.who})`;
        const path =
          concrete(row.path) +
          (row.path === '/orders' && row.method === 'GET' ? `?customerId=${customer}` : '');
        // An empty body: a caller who may call a POST gets past the guards to validation's 400.
        const body = row.method === 'POST' ? {} : undefined;
        const status = async (as: Caller) => {
          const response = await services[name].fetch(
            path,
            {
              method: row.method,
              headers: body ? { 'content-type': 'application/json' } : {},
              body: body ? JSON.stringify(body) : undefined,
            },
            as,
          );
          await response.arrayBuffer();
          return { status: response.status };
        };
        const anonymous = await status(ANONYMOUS);
        const asOwner = await status(asCustomer(customer));
        const asOperator = await status(OPERATOR);
        const outcome = {
          anonymous: anonymous.status === 401 ? 'refused' : 'let through',
          customer: asOwner.status === 401 || asOwner.status === 403 ? 'refused' : 'let through',
          operator: [401, 403].includes(asOperator.status) ? 'refused' : 'let through',
        };
        const expected = {
          anyone: { anonymous: 'let through', customer: 'let through', operator: 'let through' },
          operator: { anonymous: 'refused', customer: 'refused', operator: 'let through' },
          'signed in': { anonymous: 'refused', customer: 'let through', operator: 'let through' },
          'customer (own)': {
            anonymous: 'refused',
            customer: 'let through',
            operator: 'let through',
          },
        }[row.who];
        expect({ where, ...outcome }).toEqual({ where, ...expected });
      }
    }
  });

  it("shows each shape with exactly its schema's fields", async () => {
    const shapes = documentedShapes();
    const schemas = Object.fromEntries(
      SERVICES.flatMap((name) => Object.entries(openApi[name].components.schemas)),
    );
    const fields = (schema: string) => Object.keys(schemas[schema].properties ?? {}).sort();
    for (const [shape, schema] of Object.entries(SCHEMA_OF)) {
      expect({ shape, fields: Object.keys(shapes.get(shape) ?? {}).sort() }).toEqual({
        shape,
        fields: fields(schema),
      });
    }
    // An order's lines and history entries too.
    const order = shapes.get('Order') as { items: object[]; history: object[] };
    const nested = schemas.OrderView.properties!;
    expect(Object.keys(order.items[0]).sort()).toEqual(
      fields(schemaName(nested.items.items?.$ref)!),
    );
    expect(Object.keys(order.history[0]).sort()).toEqual(
      fields(schemaName(nested.history.items?.$ref)!),
    );
    // Health has no schema: its fields are a live answer's (an anonymous one: no probes).
    const health = await services.order.request<object>('GET', '/health', undefined, ANONYMOUS);
    expect(Object.keys(shapes.get('Health')!).sort()).toEqual(Object.keys(health.body).sort());
  });
});
