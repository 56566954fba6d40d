import { testNamespace, type TestApp } from '@app/testing';
import { startGateway } from './gateway-test-kit';

interface BadRequest {
  label: string;
  path: string;
  body?: string | Buffer;
  contentType?: string;
  method?: string;
  status?: number;
  /** Answered by Fastify's router before Nest (the foundation's createApp): 4xx, plain JSON. */
  plainJson?: boolean;
}

const deep = (depth: number): string => `{"data":${'['.repeat(depth)}${']'.repeat(depth)}}`;

/** Hostile or malformed requests to the Event API: each must get a 4xx problem+json, never a 5xx. */
const BAD_REQUESTS: BadRequest[] = [
  { label: 'an empty body', path: '/events/u1/downstream', body: '' },
  { label: 'no body and no content type', path: '/events/u1/downstream', contentType: '' },
  { label: 'malformed JSON', path: '/events/u1/downstream', body: '{"data": ' },
  { label: 'a JSON array', path: '/events/u1/downstream', body: '[{"data":1}]' },
  { label: 'a JSON string', path: '/events/u1/downstream', body: '"data"' },
  { label: 'JSON null', path: '/events/u1/downstream', body: 'null' },
  { label: 'a number', path: '/events/downstream', body: '42' },
  { label: 'an object without data', path: '/events/u1/downstream', body: '{"type":"x"}' },
  { label: 'an unknown field', path: '/events/u1/downstream', body: '{"data":1,"extra":true}' },
  { label: 'an unknown field on broadcast', path: '/events/downstream', body: '{"data":1,"userid":"u1"}' },
  { label: 'a numeric id', path: '/events/u1/downstream', body: '{"data":1,"id":7}' },
  { label: 'an empty id', path: '/events/u1/downstream', body: '{"data":1,"id":""}' },
  {
    label: 'an id of 129 characters',
    path: '/events/u1/downstream',
    body: JSON.stringify({ data: 1, id: 'a'.repeat(129) }),
  },
  { label: 'an id with a space', path: '/events/u1/downstream', body: '{"data":1,"id":"a b"}' },
  { label: 'an id with a slash', path: '/events/downstream', body: '{"data":1,"id":"../x"}' },
  { label: 'an object id', path: '/events/u1/downstream', body: '{"data":1,"id":{"$gt":""}}' },
  { label: 'an empty type', path: '/events/u1/downstream', body: '{"data":1,"type":""}' },
  {
    label: 'a type of 129 characters',
    path: '/events/u1/downstream',
    body: JSON.stringify({ data: 1, type: 't'.repeat(129) }),
  },
  {
    label: 'a type with a control character',
    path: '/events/u1/downstream',
    body: JSON.stringify({ data: 1, type: 'a\nb' }),
  },
  { label: 'an array type', path: '/events/downstream', body: '{"data":1,"type":["x"]}' },
  { label: 'data nested 10000 deep', path: '/events/u1/downstream', body: deep(10_000) },
  { label: 'data nested 65 deep', path: '/events/downstream', body: deep(65) },
  {
    label: '__proto__ in the body',
    path: '/events/u1/downstream',
    body: '{"data":1,"__proto__":{"polluted":true}}',
  },
  {
    label: 'constructor.prototype in data',
    path: '/events/u1/downstream',
    body: '{"data":{"constructor":{"prototype":{"x":1}}}}',
  },
  {
    label: 'a body over the limit',
    path: '/events/u1/downstream',
    body: `{"data":"${'x'.repeat(3 * 1024 * 1024)}"}`,
    status: 413,
  },
  {
    label: 'text/plain',
    path: '/events/u1/downstream',
    body: '{"data":1}',
    contentType: 'text/plain',
    status: 415,
  },
  {
    label: 'form encoding',
    path: '/events/downstream',
    body: 'data=1',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
  },
  { label: 'a userid with a space', path: '/events/a%20b/downstream', body: '{"data":1}' },
  { label: 'a userid with a dollar', path: '/events/%24where/downstream', body: '{"data":1}' },
  { label: 'a userid of 129 characters', path: `/events/${'u'.repeat(129)}/downstream`, body: '{"data":1}' },
  { label: 'a userid with an encoded slash', path: '/events/a%2Fb/downstream', body: '{"data":1}' },
  { label: 'a userid with a NUL', path: '/events/a%00b/downstream', body: '{"data":1}' },
  {
    label: 'a userid of invalid percent-encoding',
    path: '/events/%E0%A4%A/downstream',
    body: '{"data":1}',
    plainJson: true,
  },
  { label: 'GET on the POST route', path: '/events/u1/downstream', method: 'GET', status: 404 },
  { label: 'a client list for an invalid userId', path: '/clients/a%20b', method: 'GET' },
];

describe('event-gateway Event API under hostile input', () => {
  const ns = testNamespace();
  let gateway: TestApp;

  beforeAll(async () => {
    gateway = await startGateway(ns);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it.each(BAD_REQUESTS)(
    'answers $label with a 4xx problem+json',
    async ({ path, body, contentType, method, status, plainJson }) => {
      const headers: Record<string, string> = {};
      if (contentType !== '') {
        headers['content-type'] = contentType ?? 'application/json';
      }
      const response = await fetch(`${gateway.url}${path}`, {
        method: method ?? 'POST',
        headers,
        body: method === 'GET' ? undefined : body,
      });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      if (status) {
        expect(response.status).toBe(status);
      }
      expect(response.headers.get('content-type')).toContain(plainJson ? 'json' : 'application/problem+json');
      const problem = (await response.json()) as { status?: number; statusCode?: number };
      expect(problem.status ?? problem.statusCode).toBe(response.status);
    },
  );

  it('names the offending fields in a validation problem', async () => {
    const response = await fetch(`${gateway.url}/events/u1/downstream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: '', type: 5, extra: 1 }),
    });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: Array<{ field: string }> };
    expect(problem.errors.map((error) => error.field).sort()).toEqual(['data', 'extra', 'id', 'type']);
  });

  it('stored nothing for any of the refused requests', async () => {
    const clientsResponse = await fetch(`${gateway.url}/clients`);
    expect(await clientsResponse.json()).toEqual([]);
    const ok = await fetch(`${gateway.url}/events/u1/downstream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: { nested: [1, { a: null }] }, id: 'valid-after-hostile' }),
    });
    expect(ok.status).toBe(202);
    expect(await ok.json()).toEqual({ id: 'valid-after-hostile', userid: 'u1', delivered: 0, stored: true });
  });

  it('accepts the edge values: data null, 128-character id and type, 64 levels of nesting', async () => {
    for (const body of [
      { data: null },
      { data: false, id: 'i'.repeat(128), type: 't'.repeat(128) },
      JSON.parse(`{"data":${'['.repeat(64)}${']'.repeat(64)}}`) as unknown,
    ]) {
      const response = await fetch(`${gateway.url}/events/${'u'.repeat(128)}/downstream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(202);
    }
  });
});
