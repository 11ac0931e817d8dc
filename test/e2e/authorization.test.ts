// CONTRACT.md "Identity and access", against the real issuer and the three built services:
// every endpoint × every kind of caller → the status the contract gives, and the order of the
// checks (401, then 403 for a role that may never call, then 400, then 403/404 for someone
// else's resource).
//
// Valid tokens come from the issuer (scripts/token-client.mjs). The broken ones are made here,
// each differing from a valid operator token in one property only: signed by a throwaway key
// under the issuer's key id, or signed with the issuer's own key (its private JWKS is the local
// secret issuer-jwks.json) but expired or for another audience. A control token made the same
// way and broken in nothing is accepted, so each refusal is for the one property.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { DEFAULTS, localSecret } from '@app/dist-core/config';
import { runSuffix } from '../support/kafka.js';
import { startService, type RunningService, type ServiceName } from '../support/services.js';
import { authorization, type Caller } from '../support/tokens.js';

const RUN = runSuffix();
const ISSUER = process.env.AUTH_ISSUER ?? DEFAULTS.AUTH_ISSUER;
const AUDIENCE = process.env.AUTH_AUDIENCE ?? DEFAULTS.AUTH_AUDIENCE;

const SELF = `authz-${RUN}-self`;
const OTHER = `authz-${RUN}-other`;
const SKU = `authz-${RUN}-sku`;

type CallerName =
  | 'none'
  | 'bad signature'
  | 'expired'
  | 'other audience'
  | 'customer itself'
  | 'another customer'
  | 'operator';
const CALLERS: CallerName[] = [
  'none',
  'bad signature',
  'expired',
  'other audience',
  'customer itself',
  'another customer',
  'operator',
];

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

interface Endpoint {
  service: ServiceName;
  /** As CONTRACT.md writes it, for the test's name. */
  route: string;
  method: 'GET' | 'POST';
  path: () => string;
  body?: () => unknown;
  /** The statuses of the customer itself, another customer and an operator. */
  self: number;
  other: number;
  operator: number;
}

/** Tokens signed with the issuer's own key: only the claims differ from what it would issue. */
async function signWithIssuerKey(claims: Record<string, unknown>, expiresAt: number) {
  const text = localSecret('issuer-jwks.json');
  if (!text)
    throw new Error("the issuer's private JWKS (issuer-jwks.json) is not in the secrets dir");
  const jwk = (JSON.parse(text) as { keys: JWK[] }).keys[0];
  const key = await importJWK(jwk, jwk.alg ?? 'RS256');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: jwk.alg ?? 'RS256', kid: jwk.kid, typ: 'at+jwt' })
    .setIssuer(typeof claims.iss === 'string' ? claims.iss : ISSUER)
    .setIssuedAt(expiresAt - 7200)
    .setExpirationTime(expiresAt)
    .setSubject('authz-test')
    .sign(key);
}

describe('identity and access (CONTRACT.md)', () => {
  const services = new Map<ServiceName, RunningService>();
  const tokens = new Map<CallerName, Caller>();
  let orderOfSelf: string;
  let orderOfOther: string;
  let unique = 0;

  const call = async (
    service: ServiceName,
    method: string,
    path: string,
    caller: Caller,
    body?: unknown,
    rawBody?: string,
  ): Promise<Answer> => {
    const headers: Record<string, string> = { ...(await authorization(caller)) };
    if (body !== undefined || rawBody !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${services.get(service)!.url}${path}`, {
      method,
      headers,
      body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // /metrics, /docs, /ui: not JSON
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };

  beforeAll(async () => {
    for (const name of ['inventory', 'payment', 'order'] as const) {
      services.set(name, startService(name));
    }
    await Promise.all([...services.values()].map((service) => service.waitForHealth(200)));

    const now = Math.floor(Date.now() / 1000);
    const issuerKey = JSON.parse(localSecret('issuer-jwks.json') ?? '{"keys":[{}]}') as {
      keys: JWK[];
    };
    const { privateKey: throwaway } = await generateKeyPair('RS256');
    const operatorClaims = { role: 'operator', aud: AUDIENCE };
    tokens.set('none', 'anonymous');
    tokens.set('bad signature', {
      token: await new SignJWT(operatorClaims)
        .setProtectedHeader({ alg: 'RS256', kid: issuerKey.keys[0].kid, typ: 'at+jwt' })
        .setIssuer(ISSUER)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(throwaway),
    });
    tokens.set('expired', { token: await signWithIssuerKey(operatorClaims, now - 60) });
    tokens.set('other audience', {
      token: await signWithIssuerKey({ ...operatorClaims, aud: 'another-api' }, now + 3600),
    });
    tokens.set('customer itself', { customerId: SELF });
    tokens.set('another customer', { customerId: OTHER });
    tokens.set('operator', { operator: true });

    // What the endpoints act on, made by an operator; one order of each customer, by itself.
    const operator = { operator: true } as const;
    const made = await Promise.all([
      call('inventory', 'POST', '/products', operator, {
        sku: SKU,
        name: 'authorization matrix',
        priceCents: 100,
        stock: 1_000,
      }),
      call('payment', 'POST', '/accounts', operator, { customerId: SELF, balanceCents: 100_000 }),
      call('payment', 'POST', '/accounts', operator, { customerId: OTHER, balanceCents: 100_000 }),
    ]);
    expect(made.map((answer) => answer.status)).toEqual([201, 201, 201]);
    const placed = await Promise.all(
      [SELF, OTHER].map((customerId) =>
        call(
          'order',
          'POST',
          '/orders',
          { customerId },
          {
            customerId,
            items: [{ sku: SKU, quantity: 1 }],
          },
        ),
      ),
    );
    expect(placed.map((answer) => answer.status)).toEqual([202, 202]);
    [orderOfSelf, orderOfOther] = placed.map((answer) => (answer.body as { id: string }).id);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...services.values()].map((service) => service.stop()));
  });

  const fresh = () => `authz-${RUN}-${++unique}`;

  const ENDPOINTS: Endpoint[] = [
    {
      service: 'inventory',
      method: 'POST',
      route: 'POST /products',
      path: () => '/products',
      body: () => ({ sku: fresh(), name: 'x', priceCents: 1, stock: 1 }),
      self: 403,
      other: 403,
      operator: 201,
    },
    {
      service: 'inventory',
      method: 'GET',
      route: 'GET /products/:sku',
      path: () => `/products/${SKU}`,
      self: 200,
      other: 200,
      operator: 200,
    },
    {
      service: 'inventory',
      method: 'POST',
      route: 'POST /products/:sku/restock',
      path: () => `/products/${SKU}/restock`,
      body: () => ({ quantity: 1 }),
      self: 403,
      other: 403,
      operator: 200,
    },
    {
      service: 'payment',
      method: 'POST',
      route: 'POST /accounts',
      path: () => '/accounts',
      body: () => ({ customerId: fresh(), balanceCents: 0 }),
      self: 403,
      other: 403,
      operator: 201,
    },
    {
      service: 'payment',
      method: 'POST',
      route: 'POST /accounts/:customerId/deposits',
      path: () => `/accounts/${SELF}/deposits`,
      body: () => ({ amountCents: 1 }),
      self: 403,
      other: 403,
      operator: 200,
    },
    {
      service: 'payment',
      method: 'GET',
      route: 'GET /accounts/:customerId',
      path: () => `/accounts/${SELF}`,
      self: 200,
      other: 403,
      operator: 200,
    },
    {
      service: 'order',
      method: 'POST',
      route: 'POST /orders',
      path: () => '/orders',
      body: () => ({ customerId: SELF, items: [{ sku: SKU, quantity: 1 }] }),
      self: 202,
      other: 403,
      operator: 202,
    },
    {
      service: 'order',
      method: 'GET',
      route: 'GET /orders/:id',
      path: () => `/orders/${orderOfSelf}`,
      self: 200,
      other: 404,
      operator: 200,
    },
    {
      service: 'order',
      method: 'GET',
      route: 'GET /orders?customerId=',
      path: () => `/orders?customerId=${SELF}&limit=5`,
      self: 200,
      other: 403,
      operator: 200,
    },
    {
      service: 'order',
      method: 'GET',
      route: 'GET /admin/orders',
      path: () => '/admin/orders?limit=5',
      self: 403,
      other: 403,
      operator: 200,
    },
    {
      service: 'order',
      method: 'GET',
      route: 'GET /admin/sagas/parked',
      path: () => '/admin/sagas/parked',
      self: 403,
      other: 403,
      operator: 200,
    },
    // A saga that is not parked: the operator gets past the guard to the handler's 409.
    {
      service: 'order',
      method: 'POST',
      route: 'POST /admin/sagas/:id/retry',
      path: () => `/admin/sagas/${orderOfSelf}/retry`,
      self: 403,
      other: 403,
      operator: 409,
    },
    ...(['order', 'payment', 'inventory'] as const).map((service): Endpoint => ({
      service,
      method: 'GET',
      route: 'GET /metrics',
      path: () => '/metrics',
      self: 403,
      other: 403,
      operator: 200,
    })),
  ];

  const expected = (endpoint: Endpoint, caller: CallerName): number => {
    if (caller === 'customer itself') return endpoint.self;
    if (caller === 'another customer') return endpoint.other;
    if (caller === 'operator') return endpoint.operator;
    return 401;
  };

  const cases = ENDPOINTS.flatMap((endpoint) =>
    CALLERS.map((caller) => ({
      name: `${endpoint.service} ${endpoint.route} as ${caller}`,
      endpoint,
      caller,
    })),
  );

  it.each(cases)('$name', async ({ endpoint, caller }) => {
    const answer = await call(
      endpoint.service,
      endpoint.method,
      endpoint.path(),
      tokens.get(caller)!,
      endpoint.body?.(),
    );
    expect({ caller, status: answer.status }).toEqual({
      caller,
      status: expected(endpoint, caller),
    });
    if (answer.status === 401) {
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
      expect(answer.body).toEqual(
        expect.objectContaining({
          statusCode: 401,
          error: 'Unauthorized',
          message: expect.any(String),
        }),
      );
    }
    if (answer.status === 403) {
      expect(answer.body).toEqual(expect.objectContaining({ statusCode: 403, error: 'Forbidden' }));
    }
  });

  it.each(
    (['order', 'payment', 'inventory'] as const).flatMap((service) =>
      [
        '/health',
        '/docs',
        ...(service === 'order' ? ['/ui/', '/ui/app.js', '/ui/config.json'] : []),
      ].flatMap((path) => CALLERS.map((caller) => ({ service, path, caller }))),
    ),
  )('public: $service GET $path as $caller → 200', async ({ service, path, caller }) => {
    const answer = await call(service, 'GET', path, tokens.get(caller)!);
    expect({ caller, status: answer.status }).toEqual({ caller, status: 200 });
  });

  it('accepts a token signed with the issuer key and broken in nothing (the control case)', async () => {
    const token = await signWithIssuerKey(
      { role: 'operator', aud: AUDIENCE },
      Math.floor(Date.now() / 1000) + 600,
    );
    expect((await call('order', 'GET', '/admin/orders?limit=1', { token })).status).toBe(200);
  });

  describe('tokens that are refused with 401 and the reason in WWW-Authenticate', () => {
    const now = () => Math.floor(Date.now() / 1000);

    it.each<[string, () => Promise<string>, RegExp]>([
      [
        'expired',
        () => signWithIssuerKey({ role: 'operator', aud: AUDIENCE }, now() - 60),
        /expired/,
      ],
      [
        'for another audience',
        () => signWithIssuerKey({ role: 'operator', aud: 'another-api' }, now() + 600),
        /"aud"|'aud'/,
      ],
      [
        'of another issuer',
        () =>
          signWithIssuerKey(
            { role: 'operator', aud: AUDIENCE, iss: 'http://evil.example' },
            now() + 600,
          ),
        /'iss'/,
      ],
      [
        'with a role the contract does not know',
        () => signWithIssuerKey({ role: 'admin', aud: AUDIENCE }, now() + 600),
        /neither an operator nor a customer/,
      ],
      [
        'of a customer without a customer_id',
        () => signWithIssuerKey({ role: 'customer', aud: AUDIENCE }, now() + 600),
        /neither an operator nor a customer/,
      ],
      [
        'signed by another key without a key id',
        async () => {
          const { privateKey } = await generateKeyPair('RS256');
          return new SignJWT({ role: 'operator', aud: AUDIENCE })
            .setProtectedHeader({ alg: 'RS256' })
            .setIssuer(ISSUER)
            .setExpirationTime(now() + 600)
            .sign(privateKey);
        },
        /signature|key of the issuer/,
      ],
      [
        'unsigned (alg none)',
        async () => {
          const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
          return `${part({ alg: 'none', typ: 'JWT' })}.${part({ iss: ISSUER, aud: AUDIENCE, role: 'operator', exp: now() + 600 })}.`;
        },
        /not a well-formed|algorithm/,
      ],
      ['not a JWT at all', async () => 'not-a-jwt', /not a well-formed/],
    ])('%s', async (_case, makeToken, reason) => {
      const answer = await call('order', 'GET', '/admin/orders?limit=1', {
        token: await makeToken(),
      });
      expect(answer.status).toBe(401);
      const challenge = answer.headers.get('www-authenticate') ?? '';
      expect(challenge).toMatch(/^Bearer error="invalid_token", error_description="/);
      expect(challenge).toMatch(reason);
    });

    it('answers a request without a token with a bare Bearer challenge', async () => {
      for (const header of [undefined, 'Basic b3BlcmF0b3I6cGFzc3dvcmQ=', 'Bearer']) {
        const response = await fetch(`${services.get('order')!.url}/admin/orders`, {
          headers: header === undefined ? {} : { authorization: header },
        });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
      }
    });
  });

  describe('order of checks: 401, then 403 for the role, then 400, then 403/404 for the resource', () => {
    const invalidProduct = { sku: 'bad sku!', priceCents: -1 };

    it('401 before 400: no token and an invalid body', async () => {
      const answer = await call('inventory', 'POST', '/products', 'anonymous', invalidProduct);
      expect(answer.status).toBe(401);
      const malformed = await call(
        'order',
        'POST',
        '/orders',
        'anonymous',
        undefined,
        '{"customerId":',
      );
      expect(malformed.status).toBe(401);
    });

    it("403 before 400: a customer's token, an operator's endpoint and an invalid body", async () => {
      const answer = await call(
        'inventory',
        'POST',
        '/products',
        { customerId: SELF },
        invalidProduct,
      );
      expect(answer.status).toBe(403);
      expect(
        (await call('order', 'GET', '/admin/orders?limit=0', { customerId: SELF })).status,
      ).toBe(403);
    });

    it('400 before the own-resource check: invalid input naming another customer', async () => {
      const self = { customerId: SELF };
      const order = await call('order', 'POST', '/orders', self, { customerId: OTHER, items: [] });
      expect(order.status).toBe(400);
      expect((order.body as { message: string }).message).toMatch(/items/);
      expect((await call('order', 'GET', '/orders/not-an-id', self)).status).toBe(400);
      expect((await call('order', 'GET', `/orders?customerId=${OTHER}&limit=0`, self)).status).toBe(
        400,
      );
      expect((await call('payment', 'GET', '/accounts/bad%20id', self)).status).toBe(400);
    });

    it("another customer's order is a 404 exactly like an order that does not exist", async () => {
      const self = { customerId: SELF };
      const foreign = await call('order', 'GET', `/orders/${orderOfOther}`, self);
      const missing = await call('order', 'GET', '/orders/1', self);
      expect(foreign.status).toBe(404);
      expect(missing.status).toBe(404);
      const shape = (answer: Answer, id: string) => JSON.stringify(answer.body).replace(id, '<id>');
      expect(shape(foreign, orderOfOther)).toBe(shape(missing, '1'));
    });
  });

  it("places a customer's order for the token's customer, and lists only that customer's", async () => {
    const self = { customerId: SELF };
    const placed = await call('order', 'POST', '/orders', self, {
      customerId: SELF,
      items: [{ sku: SKU, quantity: 2 }],
    });
    expect(placed.status).toBe(202);
    expect((placed.body as { customerId: string }).customerId).toBe(SELF);
    const listed = await call('order', 'GET', `/orders?customerId=${SELF}&limit=100`, self);
    const customers = (listed.body as { items: { customerId: string }[] }).items.map(
      (order) => order.customerId,
    );
    expect(customers.length).toBeGreaterThan(0);
    expect(new Set(customers)).toEqual(new Set([SELF]));
  });
});
