/* Hostile input (issue 9): property-based fuzzing of every HTTP endpoint of the three services, as
 * each one documents it in its OpenAPI document, plus the gateway's non-API paths (Socket.IO polling,
 * Admin UI, test client page). Random and adversarial JSON, strings, headers, query strings, path
 * parameters and sizes: never a 5xx, the process never dies, and its answers afterwards are normal.
 * Then the logs the processes wrote during all that must hold no token, secret or password.
 *
 * Seeded and bounded in `npm test` (FUZZ_RUNS per service, FUZZ_SEED); `node scripts/fuzz-long.mjs`
 * runs it longer. A failure prints the seed and the shrunk counterexample. */
import fc from 'fast-check';
import {
  serviceEnv,
  spawnService,
  testNamespace,
  TEST_SECRETS,
  type ServiceName,
  type ServiceProcess,
} from '@app/testing';
import type { TodoJson } from '@app/contracts';
import { connectUser, envInt, handshakeOutcome, requestJson, waitForIds } from '../reliability/support';

const RUNS = envInt('FUZZ_RUNS', 250);
const SEED = envInt('FUZZ_SEED', 20_261_126);
/** fast-check stops a property (and passes it) after this long; the long run raises it. */
const TIME_LIMIT_MS = envInt('FUZZ_TIME_LIMIT_MS', 120_000);

interface Operation {
  /** In the service's OpenAPI document (its errors must be problem+json). */
  documented: boolean;
  method: string;
  path: string;
  query: string[];
  bodyKeys: string[];
}

interface OpenApiSchema {
  $ref?: string;
  properties?: Record<string, unknown>;
}

interface OpenApiOperation {
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content?: Record<string, { schema?: OpenApiSchema }> };
}

interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, OpenApiSchema> };
}

interface FuzzRequest {
  documented: boolean;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
}

const [portalId, portalSecret] = TEST_SECRETS.authClients.split(',')[0].split(':');
const validBasic = `Basic ${Buffer.from(`${portalId}:${portalSecret}`).toString('base64')}`;
const wrongBasic = `Basic ${Buffer.from(`${portalId}:not-the-${portalSecret}`).toString('base64')}`;

const b64url = (value: string): string => Buffer.from(value).toString('base64url');
/** An unsigned token ("alg": "none") for an existing user: must never be accepted, never crash. */
const noneToken = `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(JSON.stringify({ sub: 'fuzz.user', iss: 'downstream-auth', aud: 'downstream', exp: 4102444800 }))}.`;

/** Strings that broke parsers before: encodings, injections, numbers at the edges. */
const NASTY = [
  '',
  ' ',
  '0',
  '-1',
  '1.5',
  '1e309',
  'NaN',
  'Infinity',
  '99999999999999999999999',
  '9007199254740993',
  'null',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'prototype',
  '$where',
  '$gt',
  'a.b',
  '{"$ne":null}',
  '../../etc/passwd',
  '%00',
  '%E0%A4%A',
  '%',
  '\u0000',
  '\uFFFF',
  '\uD800',
  '😀'.repeat(40),
  'x'.repeat(300),
  'x'.repeat(5_000),
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
];

const nasty = fc.constantFrom(...NASTY);
const text = fc.oneof(
  nasty,
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const scalar = fc.oneof(
  text,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt().map((n) => n.toString()),
);
const jsonish = fc.oneof(
  scalar,
  fc.jsonValue({ maxDepth: 6 }),
  fc.array(scalar, { maxLength: 5 }),
  fc.dictionary(text, scalar, { maxKeys: 5 }),
);

/** encodeURIComponent, with lone surrogates (which it cannot encode) replaced by U+FFFD. */
function encode(value: string): string {
  return encodeURIComponent(
    value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'),
  );
}

function deepNesting(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A body: nothing, plausible-but-wrong objects with the operation's own field names, or adversarial text. */
function bodyArbitrary(keys: string[]): fc.Arbitrary<string | Buffer | undefined> {
  const fieldNames = fc.constantFrom(
    ...keys,
    '$set',
    '$where',
    'a.b',
    'todoid',
    'userid',
    'content',
    'sub',
    'roles',
    'token',
    'jti',
    'data',
    'id',
    'type',
  );
  const plausible = fc
    .dictionary(fieldNames, jsonish, { maxKeys: 6 })
    .map((object) => JSON.stringify(object));
  const nestedContent = fc
    .record(
      { userid: fc.oneof(fc.constant('fuzz.user'), text), content: fc.jsonValue({ maxDepth: 40 }) },
      { requiredKeys: [] },
    )
    .map((object) => JSON.stringify(object));
  const raw = fc.constantFrom(
    '{',
    '{"a":',
    '[',
    'null',
    '"string"',
    '42',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"userid":"fuzz.user","content":{"__proto__":{"x":1}}}',
    '{"userid":"fuzz.user","content":{"$where":"sleep(1000)"}}',
    '{"userid":"fuzz.user","content":{"a.b":1}}',
    '{"userid":"fuzz.user","content":{"nested":{"$gt":""}}}',
    '{"userid":{"$ne":null},"content":{}}',
    '{"sub":{"$ne":null}}',
    '{"jti":{"$gt":""}}',
    '{"token":"a.b.c"}',
    `{"token":"${noneToken}"}`,
    deepNesting(33),
    deepNesting(2_000),
    '\u0000\u0001\u0002',
  );
  const sized = fc
    .constantFrom(64 * 1024, 900 * 1024, 1_100 * 1024)
    .map((size) => JSON.stringify({ userid: 'fuzz.user', content: { blob: 'z'.repeat(size) } }));
  const bytes = fc.uint8Array({ maxLength: 256 }).map((array) => Buffer.from(array));
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 6, arbitrary: plausible },
    { weight: 2, arbitrary: nestedContent },
    { weight: 4, arbitrary: raw },
    { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
    { weight: 2, arbitrary: bytes },
    { weight: 1, arbitrary: sized },
  );
}

function headerArbitrary(validToken: string): fc.Arbitrary<Record<string, string>> {
  // Header values fetch accepts: visible ASCII and spaces (anything else fetch refuses to send).
  const headerText = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
    maxLength: 60,
  });
  return fc.record(
    {
      'content-type': fc.oneof(
        { weight: 10, arbitrary: fc.constant('application/json') },
        fc.constantFrom(
          'application/json; charset=utf-8',
          'application/json; charset=utf-16',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=xyz',
          'application/xml',
          'application/problem+json',
          '*/*',
          'garbage',
        ),
      ),
      authorization: fc.oneof(
        fc.constant(`Bearer ${validToken}`),
        fc.constant(`Bearer ${noneToken}`),
        fc.constant(validBasic),
        fc.constant(wrongBasic),
        fc.constant('Basic'),
        fc.constant('Basic !!!not-base64!!!'),
        fc.constant(`Basic ${Buffer.from('no-colon').toString('base64')}`),
        fc.constant(`Bearer ${'a'.repeat(10_000)}`),
        headerText.map((value) => `Bearer ${value}`),
        headerText,
      ),
      cookie: fc.oneof(
        fc.constant(`access_token=${validToken}`),
        headerText.map((value) => `access_token=${value}`),
        headerText,
      ),
      accept: fc.constantFrom(
        'application/json',
        'text/html',
        '*/*',
        'application/problem+json',
        'image/png',
      ),
      'x-request-id': headerText,
      origin: fc.constantFrom('http://evil.example', 'null', 'http://127.0.0.1'),
      'x-forwarded-for': fc.constantFrom('1.2.3.4', 'garbage', '::1, 10.0.0.1'),
    },
    { requiredKeys: ['content-type'] },
  );
}

function queryArbitrary(names: string[]): fc.Arbitrary<string> {
  const key = fc.oneof(
    fc.constantFrom(
      ...names,
      '__proto__',
      'constructor',
      'userid[$ne]',
      'limit',
      'offset',
      'completed',
      'EIO',
      'transport',
      'sid',
    ),
    text,
  );
  const value = fc.oneof(
    text,
    fc.integer().map(String),
    fc.constantFrom(
      '-1',
      '0',
      '1001',
      '1000000000000',
      'true',
      'false',
      'yes',
      '4',
      '3',
      'polling',
      'websocket',
    ),
  );
  return fc
    .array(fc.tuple(key, value), { maxLength: 6 })
    .map((pairs) => pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&'));
}

/** A path parameter: encoded text, or a raw malformed escape that URL parsing keeps as is. */
const pathParam = fc.oneof(
  { weight: 5, arbitrary: text.map((value) => encode(value)) },
  { weight: 2, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.constantFrom('%E0%A4%A', '%', '%2e%2e', '..', '%00', '1%2F2', 'fuzz.user') },
);

function requestArbitrary(operations: Operation[], validToken: string): fc.Arbitrary<FuzzRequest> {
  return fc.constantFrom(...operations).chain((operation) =>
    fc.record({
      documented: fc.constant(operation.documented),
      method: fc.oneof(
        { weight: 8, arbitrary: fc.constant(operation.method) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') },
      ),
      path: fc.array(pathParam, { minLength: 4, maxLength: 4 }).map((params) => {
        let i = 0;
        return operation.path.replace(/\{[^}]+\}/g, () => params[i++]);
      }),
      query: queryArbitrary(operation.query),
      headers: headerArbitrary(validToken),
      body: bodyArbitrary(operation.bodyKeys),
    }),
  );
}

async function operationsOf(service: ServiceProcess, extra: Operation[]): Promise<Operation[]> {
  const document = (await requestJson<OpenApiDocument>(`${service.url}/api-docs-json`)).body;
  const schemas = document.components?.schemas ?? {};
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const query = (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      const ref = operation.requestBody?.content?.['application/json']?.schema?.$ref;
      const schema = ref
        ? schemas[ref.split('/').pop()!]
        : operation.requestBody?.content?.['application/json']?.schema;
      operations.push({
        documented: true,
        method: method.toUpperCase(),
        path,
        query,
        bodyKeys: Object.keys(schema?.properties ?? {}),
      });
    }
  }
  return [...operations, ...extra];
}

function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) {
    return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('hostile input: property-based fuzzing of every HTTP endpoint', () => {
  const ns = testNamespace();
  const services = {} as Record<ServiceName, ServiceProcess>;
  const tokens: string[] = [];
  const counts: Record<string, Record<string, number>> = {};

  beforeAll(async () => {
    const env = { LOG_LEVEL: 'debug' };
    [services['auth-service'], services['event-gateway']] = await Promise.all([
      spawnService('auth-service', serviceEnv('auth-service', ns, env), { waitReady: true }),
      spawnService('event-gateway', serviceEnv('event-gateway', ns, env), { waitReady: true }),
    ]);
    services['todo-service'] = await spawnService(
      'todo-service',
      serviceEnv('todo-service', ns, { ...env, EVENT_API_URL: services['event-gateway'].url }),
      {
        waitReady: true,
      },
    );
  });

  afterAll(async () => {
    await Promise.all(Object.values(services).map((service) => service.stop()));
    process.stderr.write(
      `[hostile] http fuzz status counts (seed ${SEED}, ${RUNS} runs per service): ${JSON.stringify(counts)}\n`,
    );
  });

  async function issueToken(sub: string): Promise<string> {
    const response = await requestJson<{ access_token: string }>(
      `${services['auth-service'].url}/auth/token`,
      {
        body: { sub },
        headers: { authorization: validBasic },
      },
    );
    expect(response.status).toBe(201);
    tokens.push(response.body.access_token);
    return response.body.access_token;
  }

  const EXTRA: Record<ServiceName, Operation[]> = {
    'auth-service': [],
    'todo-service': [],
    'event-gateway': [
      {
        documented: false,
        method: 'GET',
        path: '/socket.io/',
        query: ['EIO', 'transport', 't', 'sid'],
        bodyKeys: [],
      },
      {
        documented: false,
        method: 'POST',
        path: '/socket.io/',
        query: ['EIO', 'transport', 't', 'sid'],
        bodyKeys: [],
      },
      { documented: false, method: 'GET', path: '/admin', query: [], bodyKeys: [] },
      { documented: false, method: 'GET', path: '/admin/{file}', query: [], bodyKeys: [] },
      { documented: false, method: 'GET', path: '/client', query: [], bodyKeys: [] },
      { documented: false, method: 'GET', path: '/client/{file}', query: [], bodyKeys: [] },
    ],
  };

  it.each(['auth-service', 'todo-service', 'event-gateway'] as ServiceName[])(
    '%s never answers a 5xx to fuzzed requests, stays alive, and answers normally afterwards',
    async (name) => {
      const service = services[name];
      const validToken = await issueToken('fuzz.user');
      const operations = await operationsOf(service, EXTRA[name]);
      expect(operations.length).toBeGreaterThan(3);
      const seen: Record<string, number> = {};
      counts[name] = seen;

      await fc.assert(
        fc.asyncProperty(requestArbitrary(operations, validToken), async (fuzz) => {
          const url = `${service.url}${fuzz.path}${fuzz.query ? `?${fuzz.query}` : ''}`;
          const hasBody = fuzz.body !== undefined && fuzz.method !== 'GET' && fuzz.method !== 'HEAD';
          let response: Response;
          try {
            response = await fetch(url, {
              method: fuzz.method,
              headers: fuzz.headers,
              body: hasBody ? fuzz.body : undefined,
              signal: AbortSignal.timeout(15_000),
            });
          } catch (error) {
            // A hang is a failure; so is a dead process. A connection the server closed on purpose
            // (an oversized body it refused early) or a URL fetch would not build is counted and passed.
            if ((error as Error).name === 'TimeoutError' || !isAlive(service.pid)) {
              throw error;
            }
            const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
            const key = `no-answer:${cause?.code ?? cause?.message ?? (error as Error).message}`.slice(0, 60);
            seen[key] = (seen[key] ?? 0) + 1;
            return;
          }
          await response.arrayBuffer();
          seen[response.status] = (seen[response.status] ?? 0) + 1;
          if (response.status >= 500) {
            throw new Error(`${fuzz.method} ${fuzz.path} answered ${response.status}`);
          }
          if (response.status >= 400 && fuzz.method !== 'HEAD' && fuzz.documented) {
            expect(response.headers.get('content-type')).toContain('application/problem+json');
          }
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: false, interruptAfterTimeLimit: TIME_LIMIT_MS },
      );

      expect(isAlive(service.pid)).toBe(true);
      expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
    },
    TIME_LIMIT_MS + 60_000,
  );

  it('answers normally after the fuzzing: token, verify, create, read, complete, deliver', async () => {
    const token = await issueToken('after.fuzz');
    const verify = await fetch(`${services['auth-service'].url}/auth/verify`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(verify.status).toBe(200);
    expect(verify.headers.get('x-user-id')).toBe('after.fuzz');

    const client = await connectUser(services['event-gateway'].url, 'after.fuzz', token);
    try {
      const created = await requestJson<TodoJson>(`${services['todo-service'].url}/todos`, {
        body: { userid: 'after.fuzz', content: { title: 'still fine' } },
      });
      expect(created.status).toBe(201);
      const read = await requestJson(`${services['todo-service'].url}/todos/${created.body.todoid}`);
      expect(read.body).toMatchObject({ userid: 'after.fuzz', content: { title: 'still fine' } });
      const completed = await requestJson<{ event: { id: string } }>(
        `${services['todo-service'].url}/todos/${created.body.todoid}/complete/downstream`,
        { method: 'POST' },
      );
      expect(completed.status).toBe(200);
      await waitForIds(client, [completed.body.event.id], 10_000);
    } finally {
      client.close();
    }
  });

  it('sends security headers on success and error answers of the three services', async () => {
    const probes: Record<ServiceName, Array<[string, RequestInit]>> = {
      'auth-service': [
        ['/health/live', {}],
        ['/auth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }],
      ],
      'todo-service': [
        ['/health/live', {}],
        ['/todos/not-a-number', {}],
        ['/todos', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }],
      ],
      'event-gateway': [
        ['/health/live', {}],
        ['/clients/no.such.user', {}],
        [
          '/events/x/downstream',
          { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' },
        ],
      ],
    };
    const missing: string[] = [];
    for (const [name, requests] of Object.entries(probes) as Array<
      [ServiceName, Array<[string, RequestInit]>]
    >) {
      for (const [path, init] of requests) {
        const response = await fetch(`${services[name].url}${path}`, init);
        await response.arrayBuffer();
        const h = response.headers;
        const checks: Record<string, boolean> = {
          'x-content-type-options: nosniff': h.get('x-content-type-options') === 'nosniff',
          'x-frame-options': h.get('x-frame-options') !== null,
          'content-security-policy': (h.get('content-security-policy') ?? '').includes("default-src 'self'"),
          'strict-transport-security': h.get('strict-transport-security') !== null,
          'referrer-policy': h.get('referrer-policy') !== null,
          'cross-origin-resource-policy': h.get('cross-origin-resource-policy') !== null,
          'no x-powered-by': h.get('x-powered-by') === null,
          'x-request-id': h.get('x-request-id') !== null,
        };
        for (const [check, ok] of Object.entries(checks)) {
          if (!ok) {
            missing.push(`${name} ${init.method ?? 'GET'} ${path} (${response.status}): ${check}`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it("keeps /auth/verify's answers, which only the ingress reads, to what they need: no sniffing, no caching", async () => {
    const token = await issueToken('headers.check');
    const cases: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer forged' },
      { authorization: `Bearer ${token}` },
    ];
    for (const headers of cases) {
      const response = await fetch(`${services['auth-service'].url}/auth/verify`, { headers });
      const body = (await response.json()) as Record<string, unknown>;
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-request-id')).not.toBeNull();
      expect(response.headers.get('content-type')).toMatch(/^application\/(problem\+)?json/);
      expect(response.headers.get('x-powered-by')).toBeNull();
      expect(typeof body).toBe('object');
    }
  });

  it('writes no token, secret or password into any log line of the three processes', async () => {
    // Exercise the paths that handle secrets once more: a failed login, a revoked token's handshake.
    const token = await issueToken('log.check');
    await fetch(`${services['auth-service'].url}/auth/token`, {
      method: 'POST',
      headers: { authorization: wrongBasic, 'content-type': 'application/json' },
      body: '{"sub":"x"}',
    });
    const revoked = await requestJson(`${services['auth-service'].url}/auth/revoke`, {
      body: { token },
      headers: { authorization: validBasic },
    });
    expect(revoked.status).toBe(200);
    expect(await handshakeOutcome(services['event-gateway'].url, { token })).toBe('unauthorized');
    await fetch(`${services['event-gateway'].url}/admin/`, {
      headers: {
        authorization: `Basic ${Buffer.from(`admin:${TEST_SECRETS.adminPassword}`).toString('base64')}`,
      },
    });

    const secrets = [
      TEST_SECRETS.jwtSecret,
      TEST_SECRETS.adminPassword,
      ...TEST_SECRETS.authClients.split(',').map((pair) => pair.split(':')[1]),
      Buffer.from(`${portalId}:${portalSecret}`).toString('base64'),
      ...tokens,
      // A token's signature alone is enough to replay it with a forged header/payload guess: none may appear.
      ...tokens.map((t) => t.split('.')[2]),
    ];
    for (const service of Object.values(services)) {
      const output = service.output();
      expect(output.length).toBeGreaterThan(0);
      const leaked = secrets.filter((secret) => output.includes(secret));
      expect({ service: service.name, leaked }).toEqual({ service: service.name, leaked: [] });
    }
  });
});
