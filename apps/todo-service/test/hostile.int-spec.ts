import { serviceEnv, startTestApp, testNamespace, type TestApp } from '@app/testing';
import { todoService } from '../src/service';
import { call } from './http';

interface Hostile {
  name: string;
  method: string;
  path: string;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
}

const nested = (levels: number, key = 'n'): string => `${`{"${key}":`.repeat(levels)}1${'}'.repeat(levels)}`;
const arrays = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const todo = (content: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  userid: 'victim',
  content,
  ...extra,
});

const EXISTING = 424242;

const CASES: Hostile[] = [
  // wrong types
  {
    name: 'userid as a number',
    method: 'POST',
    path: '/todos',
    body: { userid: 7, content: {} },
    status: 400,
  },
  {
    name: 'userid as an object operator',
    method: 'POST',
    path: '/todos',
    body: { userid: { $ne: null }, content: {} },
    status: 400,
  },
  { name: 'userid empty', method: 'POST', path: '/todos', body: { userid: '', content: {} }, status: 400 },
  {
    name: 'userid of 129 characters',
    method: 'POST',
    path: '/todos',
    body: { userid: 'u'.repeat(129), content: {} },
    status: 400,
  },
  {
    name: 'userid with a slash',
    method: 'POST',
    path: '/todos',
    body: { userid: '../admin', content: {} },
    status: 400,
  },
  { name: 'content missing', method: 'POST', path: '/todos', body: { userid: 'u1' }, status: 400 },
  { name: 'content as a string', method: 'POST', path: '/todos', body: todo('text'), status: 400 },
  { name: 'content as an array', method: 'POST', path: '/todos', body: todo([1, 2]), status: 400 },
  { name: 'content null', method: 'POST', path: '/todos', body: todo(null), status: 400 },
  {
    name: 'completed as a string',
    method: 'POST',
    path: '/todos',
    body: todo({}, { completed: 'true' }),
    status: 400,
  },
  {
    name: 'completed null',
    method: 'POST',
    path: '/todos',
    body: todo({}, { completed: null }),
    status: 400,
  },
  {
    name: 'todoid as a string',
    method: 'POST',
    path: '/todos',
    body: todo({}, { todoid: '5' }),
    status: 400,
  },
  { name: 'todoid negative', method: 'POST', path: '/todos', body: todo({}, { todoid: -3 }), status: 400 },
  { name: 'todoid a float', method: 'POST', path: '/todos', body: todo({}, { todoid: 2.5 }), status: 400 },
  {
    name: 'todoid beyond safe integers',
    method: 'POST',
    path: '/todos',
    body: todo({}, { todoid: 2 ** 60 }),
    status: 400,
  },
  { name: 'todoid zero', method: 'POST', path: '/todos', body: todo({}, { todoid: 0 }), status: 400 },
  { name: 'a JSON array body', method: 'POST', path: '/todos', body: [todo({})], status: 400 },
  { name: 'a JSON string body', method: 'POST', path: '/todos', body: '"hello"', status: 400 },
  { name: 'a JSON null body', method: 'POST', path: '/todos', body: 'null', status: 400 },
  // operators and dotted keys
  {
    name: '$where at the top of content',
    method: 'POST',
    path: '/todos',
    body: todo({ $where: 'sleep(1000)' }),
    status: 400,
  },
  {
    name: '$gt nested in content',
    method: 'POST',
    path: '/todos',
    body: todo({ qty: { $gt: 0 } }),
    status: 400,
  },
  {
    name: '$set inside an array in content',
    method: 'POST',
    path: '/todos',
    body: todo({ rows: [{ ok: 1 }, { $set: { admin: true } }] }),
    status: 400,
  },
  { name: 'a dotted key', method: 'POST', path: '/todos', body: todo({ 'a.b': 1 }), status: 400 },
  {
    name: 'a dotted key deep down',
    method: 'POST',
    path: '/todos',
    body: todo({ a: { b: { 'c.d': 1 } } }),
    status: 400,
  },
  {
    name: '$-key in a PUT content',
    method: 'PUT',
    path: `/todos/${EXISTING}`,
    body: { content: { $inc: { n: 1 } } },
    status: 400,
  },
  {
    name: '__proto__ key',
    method: 'POST',
    path: '/todos',
    body: `{"userid":"u1","content":{"__proto__":{"polluted":true}}}`,
    status: 400,
  },
  {
    name: 'constructor.prototype',
    method: 'POST',
    path: '/todos',
    body: `{"userid":"u1","content":{"constructor":{"prototype":{"polluted":true}}}}`,
    status: 400,
  },
  // depth and size
  {
    name: 'content nested 33 levels',
    method: 'POST',
    path: '/todos',
    body: `{"userid":"u1","content":${nested(33)}}`,
    status: 400,
  },
  {
    name: 'content nested 100 000 levels (objects)',
    method: 'POST',
    path: '/todos',
    body: `{"userid":"u1","content":${nested(100_000)}}`,
    status: 400,
  },
  {
    name: 'content nested 300 000 levels (arrays)',
    method: 'POST',
    path: '/todos',
    body: `{"userid":"u1","content":{"a":${arrays(300_000)}}}`,
    status: 400,
  },
  {
    name: 'a string larger than 1 MiB',
    method: 'POST',
    path: '/todos',
    body: todo({ s: 'x'.repeat(1_100_000) }),
    status: 413,
  },
  {
    name: 'a PUT larger than 1 MiB',
    method: 'PUT',
    path: `/todos/${EXISTING}`,
    body: { content: { s: 'y'.repeat(1_100_000) } },
    status: 413,
  },
  // malformed bodies and media types
  { name: 'invalid JSON', method: 'POST', path: '/todos', body: '{"userid": "u1", content: }', status: 400 },
  {
    name: 'truncated JSON',
    method: 'POST',
    path: '/todos',
    body: '{"userid": "u1", "content": {',
    status: 400,
  },
  {
    name: 'an empty JSON body',
    method: 'POST',
    path: '/todos',
    body: '',
    headers: { 'content-type': 'application/json' },
    status: 400,
  },
  {
    name: 'text/plain',
    method: 'POST',
    path: '/todos',
    body: JSON.stringify(todo({})),
    headers: { 'content-type': 'text/plain' },
    status: 415,
  },
  {
    name: 'form encoding',
    method: 'POST',
    path: '/todos',
    body: 'userid=u1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
  },
  {
    name: 'no content type on PUT',
    method: 'PUT',
    path: `/todos/${EXISTING}`,
    body: '',
    headers: { 'content-type': '' },
    status: 415,
  },
  // unknown fields
  {
    name: 'an unknown field',
    method: 'POST',
    path: '/todos',
    body: todo({}, { isAdmin: true }),
    status: 400,
  },
  {
    name: 'createdAt in the body',
    method: 'POST',
    path: '/todos',
    body: todo({}, { createdAt: '2020-01-01T00:00:00Z' }),
    status: 400,
  },
  {
    name: 'downstream in the body',
    method: 'POST',
    path: '/todos',
    body: todo({}, { downstream: { status: 'acked' } }),
    status: 400,
  },
  {
    name: 'todoid in a PUT body',
    method: 'PUT',
    path: `/todos/${EXISTING}`,
    body: { todoid: 1 },
    status: 400,
  },
  { name: '_id in a PUT body', method: 'PUT', path: `/todos/${EXISTING}`, body: { _id: 'x' }, status: 400 },
  // ids in the path
  { name: 'a negative todoid', method: 'GET', path: '/todos/-1', status: 400 },
  { name: 'a float todoid', method: 'GET', path: '/todos/1.5', status: 400 },
  { name: 'an exponent todoid', method: 'DELETE', path: '/todos/1e3', status: 400 },
  { name: 'a huge todoid', method: 'GET', path: '/todos/123456789012345678901234567890', status: 400 },
  { name: 'a non-numeric todoid', method: 'PUT', path: '/todos/abc', body: { completed: true }, status: 400 },
  { name: 'a hex todoid', method: 'POST', path: '/todos/0x10/complete/downstream', status: 400 },
  { name: 'an operator-looking todoid', method: 'GET', path: '/todos/%7B%22%24gt%22%3A0%7D', status: 400 },
  // query parameters
  { name: 'an operator in the userid query', method: 'GET', path: '/todos?userid[$ne]=nobody', status: 400 },
  { name: 'a repeated limit', method: 'GET', path: '/todos?limit=1&limit=2', status: 400 },
  { name: 'limit 0', method: 'GET', path: '/todos?limit=0', status: 400 },
  { name: 'a huge offset', method: 'GET', path: '/todos?offset=1e400', status: 400 },
  { name: 'completed=1', method: 'GET', path: '/todos?completed=1', status: 400 },
  { name: 'an unknown query parameter', method: 'GET', path: '/todos?$where=1', status: 400 },
];

describe('hostile input', () => {
  const ns = testNamespace();
  let service: TestApp;

  beforeAll(async () => {
    service = await startTestApp(todoService, serviceEnv('todo-service', ns));
    expect(
      (
        await call(service.url, 'POST', '/todos', {
          todoid: EXISTING,
          userid: 'victim',
          content: { safe: true },
        })
      ).status,
    ).toBe(201);
  });

  afterAll(async () => {
    await service?.close();
  });

  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES.map((c) => [c.name, c] as const))(
    'answers %s with a 4xx problem+json',
    async (_name, hostile) => {
      const answer = await call(service.url, hostile.method, hostile.path, hostile.body, hostile.headers);
      expect({ status: answer.status, type: answer.headers.get('content-type') }).toEqual({
        status: hostile.status,
        type: expect.stringContaining('application/problem+json'),
      });
      expect(answer.body).toMatchObject({
        status: hostile.status,
        title: expect.any(String),
        detail: expect.any(String),
      });
    },
  );

  it('still answers normally afterwards, with nothing changed or polluted', async () => {
    const existing = await call(service.url, 'GET', `/todos/${EXISTING}`);
    expect(existing.status).toBe(200);
    expect(existing.body).toMatchObject({
      todoid: EXISTING,
      userid: 'victim',
      content: { safe: true },
      completed: false,
    });
    const list = await call(service.url, 'GET', '/todos');
    expect(list.status).toBe(200);
    expect(list.headers.get('x-total-count')).toBe('1');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const created = await call(service.url, 'POST', '/todos', {
      userid: 'after',
      content: { 'bp-test': { ok: [null, 1] } },
    });
    expect(created.status).toBe(201);
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
  });
});
