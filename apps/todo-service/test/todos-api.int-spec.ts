import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { serviceEnv, startTestApp, testNamespace, type TestApp } from '@app/testing';
import { todoService } from '../src/service';
import { call, ISO, type Json } from './http';

const TODO_KEYS = ['completed', 'completedAt', 'content', 'createdAt', 'todoid', 'updatedAt', 'userid'];

function expectProblem(answer: { status: number; headers: Headers; body: Json }, status: number): void {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toContain('application/problem+json');
  expect(answer.body).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status,
    detail: expect.any(String),
  });
}

describe('todo-service Todo API (SPEC section 3)', () => {
  const ns = testNamespace();
  let service: TestApp;

  beforeAll(async () => {
    service = await startTestApp(todoService, serviceEnv('todo-service', ns));
  });

  afterAll(async () => {
    await service?.close();
  });

  it('stores a todo under its todoid as primary key, so that a lookup by todoid is a primary-key lookup', async () => {
    const created = await call(service.url, 'POST', '/todos', { userid: 'pk-user', content: {} });
    const connection = service.app.get<Connection>(getConnectionToken());
    const stored = await connection.collection('todos').findOne({ userid: 'pk-user' });
    expect(stored?._id).toBe(String(created.body.todoid));
    expect(stored?.todoid).toBe(created.body.todoid);
  });

  it('runs mongoose queries without capturing a stack trace each (skipOriginalStackTraces)', async () => {
    const connection = service.app.get<Connection>(getConnectionToken());
    const query = connection.model('Todo').findOne({ _id: 'none' }).lean();
    await query.exec();
    // With the option off, mongoose stores the formatted stack of the first exec() here.
    expect((query as unknown as { _executionStack: unknown })._executionStack).toBe(true);
  });

  describe('POST /todos', () => {
    it('creates a todo with an allocated todoid, answers 201 with Location and exactly the contract shape', async () => {
      const content = {
        title: 'Order 1',
        fields: { qty: 0, 'bp-test': [1, null, { deep: true }] },
        empty: {},
      };
      const created = await call(service.url, 'POST', '/todos', { userid: 'test001', content });
      expect(created.status).toBe(201);
      expect(created.headers.get('content-type')).toContain('application/json');
      expect(Object.keys(created.body).sort()).toEqual(TODO_KEYS);
      expect(created.body).toEqual({
        todoid: expect.any(Number),
        userid: 'test001',
        content,
        completed: false,
        completedAt: null,
        createdAt: expect.stringMatching(ISO),
        updatedAt: expect.stringMatching(ISO),
      });
      expect(created.body.todoid).toBeGreaterThan(0);
      expect(created.headers.get('location')).toBe(`/todos/${created.body.todoid}`);

      const read = await call(service.url, 'GET', `/todos/${created.body.todoid}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created.body);
    });

    it('accepts a client-supplied todoid and answers 409 when it is taken', async () => {
      const first = await call(service.url, 'POST', '/todos', { todoid: 5000, userid: 'u1', content: {} });
      expect(first.status).toBe(201);
      expect(first.body.todoid).toBe(5000);
      expect(first.headers.get('location')).toBe('/todos/5000');
      const again = await call(service.url, 'POST', '/todos', { todoid: 5000, userid: 'u2', content: {} });
      expectProblem(again, 409);
      expect((await call(service.url, 'GET', '/todos/5000')).body.userid).toBe('u1');
    });

    it('lets one user own many todos (userid is not unique)', async () => {
      const a = await call(service.url, 'POST', '/todos', { userid: 'many.owner@x', content: { n: 1 } });
      const b = await call(service.url, 'POST', '/todos', { userid: 'many.owner@x', content: { n: 2 } });
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(a.body.todoid).not.toBe(b.body.todoid);
    });

    it('stores completed: true with a completedAt', async () => {
      const created = await call(service.url, 'POST', '/todos', {
        userid: 'u1',
        content: {},
        completed: true,
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ completed: true, completedAt: expect.stringMatching(ISO) });
      expect(created.body).not.toHaveProperty('downstream');
    });

    it('rejects a body larger than 1 MiB with 413', async () => {
      const answer = await call(service.url, 'POST', '/todos', {
        userid: 'u1',
        content: { blob: 'x'.repeat(1024 * 1024 + 10) },
      });
      expectProblem(answer, 413);
    });

    it('rejects a body that is not JSON with 415', async () => {
      expectProblem(
        await call(service.url, 'POST', '/todos', 'userid=u1', { 'content-type': 'text/plain' }),
        415,
      );
      expectProblem(
        await call(service.url, 'POST', '/todos', '<todo/>', { 'content-type': 'application/xml' }),
        415,
      );
    });

    it('rejects an unknown field, a bad userid and a content key starting with $ with 400 naming the field', async () => {
      const unknown = await call(service.url, 'POST', '/todos', { userid: 'u1', content: {}, owner: 'x' });
      expectProblem(unknown, 400);
      const userid = await call(service.url, 'POST', '/todos', { userid: 'has space', content: {} });
      expectProblem(userid, 400);
      expect(userid.body.errors).toEqual([expect.objectContaining({ field: 'userid' })]);
      const dollar = await call(service.url, 'POST', '/todos', {
        userid: 'u1',
        content: { a: { b: [{ $where: 'sleep(1)' }] } },
      });
      expectProblem(dollar, 400);
      expect(dollar.body.errors).toEqual([
        { field: 'content.a.b[0]["$where"]', message: "keys must not start with '$'" },
      ]);
    });

    it('accepts content nested exactly 32 levels deep and rejects 33', async () => {
      const nest = (levels: number): Record<string, unknown> => {
        let value: Record<string, unknown> = { leaf: 1 };
        for (let i = 1; i < levels; i += 1) {
          value = { n: value };
        }
        return value;
      };
      expect((await call(service.url, 'POST', '/todos', { userid: 'u1', content: nest(32) })).status).toBe(
        201,
      );
      const deep = await call(service.url, 'POST', '/todos', { userid: 'u1', content: nest(33) });
      expectProblem(deep, 400);
      expect(deep.body.errors[0].message).toMatch(/deeper than 32/);
    });
  });

  describe('GET /todos', () => {
    const user = 'lister-1';
    const ids: number[] = [];

    beforeAll(async () => {
      // Client-supplied ids out of order: the list must still be sorted by todoid.
      for (const [todoid, completed] of [
        [9005, false],
        [9001, true],
        [9003, false],
        [9002, true],
        [9004, false],
      ] as const) {
        const answer = await call(service.url, 'POST', '/todos', {
          todoid,
          userid: user,
          content: { todoid },
          completed,
        });
        expect(answer.status).toBe(201);
        ids.push(todoid);
      }
      expect(
        (await call(service.url, 'POST', '/todos', { todoid: 9006, userid: 'lister-2', content: {} })).status,
      ).toBe(201);
    });

    it('lists a user’s todos sorted by todoid with X-Total-Count', async () => {
      const answer = await call(service.url, 'GET', `/todos?userid=${user}`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-total-count')).toBe('5');
      expect(answer.body.map((t: { todoid: number }) => t.todoid)).toEqual([9001, 9002, 9003, 9004, 9005]);
      for (const todo of answer.body) {
        expect(Object.keys(todo).sort()).toEqual(TODO_KEYS);
      }
    });

    it('paginates with limit and offset while X-Total-Count counts every match', async () => {
      const page = await call(service.url, 'GET', `/todos?userid=${user}&limit=2&offset=2`);
      expect(page.status).toBe(200);
      expect(page.headers.get('x-total-count')).toBe('5');
      expect(page.body.map((t: { todoid: number }) => t.todoid)).toEqual([9003, 9004]);
      const beyond = await call(service.url, 'GET', `/todos?userid=${user}&offset=10`);
      expect(beyond.body).toEqual([]);
      expect(beyond.headers.get('x-total-count')).toBe('5');
    });

    it('filters by completed', async () => {
      const done = await call(service.url, 'GET', `/todos?userid=${user}&completed=true`);
      expect(done.body.map((t: { todoid: number }) => t.todoid)).toEqual([9001, 9002]);
      const open = await call(service.url, 'GET', `/todos?userid=${user}&completed=false`);
      expect(open.body.map((t: { todoid: number }) => t.todoid)).toEqual([9003, 9004, 9005]);
      expect(open.headers.get('x-total-count')).toBe('3');
    });

    it('defaults to 100 items and accepts limit 1000', async () => {
      const all = await call(service.url, 'GET', '/todos');
      expect(all.status).toBe(200);
      expect(Number(all.headers.get('x-total-count'))).toBeGreaterThanOrEqual(6);
      expect((await call(service.url, 'GET', '/todos?limit=1000')).status).toBe(200);
      expect((await call(service.url, 'GET', '/todos?limit=1')).body).toHaveLength(1);
    });

    it.each([
      ['limit=0'],
      ['limit=1001'],
      ['limit=abc'],
      ['limit=1.5'],
      ['offset=-1'],
      ['completed=yes'],
      ['userid=bad%20id'],
      ['userid[$ne]=x'],
      ['sort=todoid'],
      ['downstream.status=lost'],
    ])('rejects the query %s with 400', async (query) => {
      expectProblem(await call(service.url, 'GET', `/todos?${query}`), 400);
    });
  });

  describe('GET /todos/{todoid}', () => {
    it('answers 404 problem+json for an absent todo', async () => {
      const answer = await call(service.url, 'GET', '/todos/987654321');
      expectProblem(answer, 404);
    });

    it.each(['abc', '1.5', '-1', '0', '1e3', '99999999999999999999', '01'])(
      'rejects the todoid %s with 400',
      async (id) => {
        expectProblem(await call(service.url, 'GET', `/todos/${id}`), 400);
      },
    );
  });

  describe('PUT /todos/{todoid}', () => {
    it('updates only the given fields and keeps the others', async () => {
      const created = await call(service.url, 'POST', '/todos', { userid: 'editor', content: { v: 1 } });
      const id = created.body.todoid;
      const renamed = await call(service.url, 'PUT', `/todos/${id}`, { userid: 'editor2' });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({
        todoid: id,
        userid: 'editor2',
        content: { v: 1 },
        completed: false,
        createdAt: created.body.createdAt,
      });
      const content = await call(service.url, 'PUT', `/todos/${id}`, { content: { v: 2, list: [] } });
      expect(content.body).toMatchObject({ userid: 'editor2', content: { v: 2, list: [] } });
      const completed = await call(service.url, 'PUT', `/todos/${id}`, { completed: true });
      expect(completed.body).toMatchObject({
        userid: 'editor2',
        content: { v: 2, list: [] },
        completed: true,
        completedAt: expect.stringMatching(ISO),
      });
      expect(Object.keys(completed.body).sort()).toEqual(TODO_KEYS);
      expect(Date.parse(completed.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.body.updatedAt));
      const reopened = await call(service.url, 'PUT', `/todos/${id}`, { completed: false });
      expect(reopened.body).toMatchObject({ completed: false, completedAt: null });
      expect((await call(service.url, 'GET', `/todos/${id}`)).body).toEqual(reopened.body);
    });

    it('keeps every field when the body is empty', async () => {
      const created = await call(service.url, 'POST', '/todos', {
        userid: 'keeper',
        content: { k: [1] },
        completed: true,
      });
      const answer = await call(service.url, 'PUT', `/todos/${created.body.todoid}`, {});
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        userid: 'keeper',
        content: { k: [1] },
        completed: true,
        completedAt: created.body.completedAt,
      });
    });

    it('rejects a todoid in the body with 400 and does not change it', async () => {
      const created = await call(service.url, 'POST', '/todos', { userid: 'editor', content: {} });
      const answer = await call(service.url, 'PUT', `/todos/${created.body.todoid}`, {
        todoid: 1,
        userid: 'x',
      });
      expectProblem(answer, 400);
      expect((await call(service.url, 'GET', `/todos/${created.body.todoid}`)).body.userid).toBe('editor');
    });

    it('answers 404 for an absent todo, 400 for a bad id and content, 415 for a non-JSON body', async () => {
      expectProblem(await call(service.url, 'PUT', '/todos/987654321', { completed: true }), 404);
      expectProblem(await call(service.url, 'PUT', '/todos/x', { completed: true }), 400);
      const created = await call(service.url, 'POST', '/todos', { userid: 'editor', content: {} });
      expectProblem(
        await call(service.url, 'PUT', `/todos/${created.body.todoid}`, { content: { 'a.b': 1 } }),
        400,
      );
      expectProblem(
        await call(service.url, 'PUT', `/todos/${created.body.todoid}`, { completed: 'yes' }),
        400,
      );
      expectProblem(
        await call(service.url, 'PUT', `/todos/${created.body.todoid}`, 'completed=true', {
          'content-type': 'text/plain',
        }),
        415,
      );
    });
  });

  describe('DELETE /todos/{todoid}', () => {
    it('deletes with 204 and then answers 404', async () => {
      const created = await call(service.url, 'POST', '/todos', { userid: 'deleter', content: {} });
      const deleted = await call(service.url, 'DELETE', `/todos/${created.body.todoid}`);
      expect(deleted.status).toBe(204);
      expect(deleted.body).toBe('');
      expectProblem(await call(service.url, 'GET', `/todos/${created.body.todoid}`), 404);
      expectProblem(await call(service.url, 'DELETE', `/todos/${created.body.todoid}`), 404);
      expectProblem(await call(service.url, 'DELETE', '/todos/-5'), 400);
    });
  });

  describe('concurrency', () => {
    it('gives 100 parallel creates 100 distinct todoids without a 5xx', async () => {
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          call(service.url, 'POST', '/todos', { userid: 'crowd', content: { i } }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(100).fill(201));
      const ids = new Set(answers.map((a) => a.body.todoid));
      expect(ids.size).toBe(100);
      const listed = await call(service.url, 'GET', '/todos?userid=crowd&limit=1000');
      expect(listed.headers.get('x-total-count')).toBe('100');
    });
  });

  describe('Swagger', () => {
    it('documents every endpoint with its error responses', async () => {
      const doc = (await call(service.url, 'GET', '/api-docs-json')).body;
      expect(Object.keys(doc.paths['/todos']).sort()).toEqual(['get', 'post']);
      expect(Object.keys(doc.paths['/todos/{todoid}']).sort()).toEqual(['delete', 'get', 'put']);
      expect(doc.paths['/todos/{todoid}/complete/downstream'].post.responses).toHaveProperty('200');
      expect(Object.keys(doc.paths['/todos'].post.responses)).toEqual(
        expect.arrayContaining(['201', '400', '409', '413', '415', '503']),
      );
      const listParams = doc.paths['/todos'].get.parameters.map((p: { name: string }) => p.name);
      expect(listParams).toEqual(
        expect.arrayContaining(['userid', 'completed', 'limit', 'offset', 'downstream.status']),
      );
      expect(doc.components.schemas.TodoResponse.properties).toHaveProperty('downstream');
    });
  });
});
