import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TODO_COMPLETED_EVENT } from '@app/contracts';
import {
  freePort,
  serviceEnv,
  spawnService,
  startTestApp,
  testNamespace,
  waitFor,
  type TestApp,
} from '@app/testing';
import mongoose from 'mongoose';
import { todoService } from '../src/service';
import { EventReceiver } from './event-receiver';
import { call, COMPLETION_EVENT_ID, ISO } from './http';

describe('POST /todos/{todoid}/complete/downstream', () => {
  describe('with the Event API up', () => {
    const ns = testNamespace();
    let receiver: EventReceiver;
    let service: TestApp;

    beforeAll(async () => {
      receiver = await new EventReceiver().start();
      service = await startTestApp(
        todoService,
        serviceEnv('todo-service', ns, { EVENT_API_URL: receiver.url }),
      );
    });

    afterAll(async () => {
      await service?.close();
      await receiver?.stop();
    });

    beforeEach(() => {
      receiver.received.length = 0;
      receiver.delivered = 0;
    });

    it('completes the todo and hands one todo.completed event with the todo as data to the user', async () => {
      receiver.delivered = 2;
      const created = await call(service.url, 'POST', '/todos', {
        userid: 'partner.7@x',
        content: { title: 'PO', fields: { qty: 1 } },
      });
      const answer = await call(service.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`);
      expect(answer.status).toBe(200);
      expect(Object.keys(answer.body).sort()).toEqual(['event', 'todo']);
      const { todo, event } = answer.body;
      expect(event).toEqual({ id: expect.stringMatching(COMPLETION_EVENT_ID), status: 'delivered' });
      expect(todo).toEqual({
        ...created.body,
        completed: true,
        completedAt: expect.stringMatching(ISO),
        updatedAt: expect.stringMatching(ISO),
        downstream: { eventId: event.id, status: 'delivered', acknowledgedAt: null },
      });

      expect(receiver.received).toHaveLength(1);
      const [sent] = receiver.received;
      expect(sent.path).toBe(`/events/${encodeURIComponent('partner.7@x')}/downstream`);
      expect(sent.body).toEqual({
        id: event.id,
        type: TODO_COMPLETED_EVENT,
        data: {
          ...created.body,
          completed: true,
          completedAt: todo.completedAt,
          updatedAt: expect.stringMatching(ISO),
          downstream: expect.objectContaining({ eventId: event.id }),
        },
      });
      expect(sent.body.data).not.toHaveProperty('_id');

      const read = await call(service.url, 'GET', `/todos/${created.body.todoid}`);
      expect(read.body.downstream).toEqual({ eventId: event.id, status: 'delivered', acknowledgedAt: null });
      expect(Object.keys(read.body.downstream).sort()).toEqual(['acknowledgedAt', 'eventId', 'status']);
    });

    it('reads no todo under the lease and writes it twice for a first completion: the completion with its event and holder, then the outcome', async () => {
      const created = await call(service.url, 'POST', '/todos', { userid: 'two-writes', content: {} });
      const operations: string[] = [];
      mongoose.set('debug', (collection: string, method: string) => {
        // Not `find`: the outbox dispatcher's periodic poll may run meanwhile.
        if (collection === 'todos' && method !== 'find') {
          operations.push(method);
        }
      });
      let completed: Awaited<ReturnType<typeof call>>;
      try {
        completed = await call(service.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`);
      } finally {
        mongoose.set('debug', false);
      }
      expect(completed.status).toBe(200);
      // The one read, by todoid before the lease, goes through the driver's collection handle,
      // which mongoose does not see; the completion is conditional on what it read.
      expect(operations).toEqual(['findOneAndUpdate', 'updateOne']);
      const stored = await call(service.url, 'GET', `/todos/${created.body.todoid}`);
      expect(stored.body.downstream).toMatchObject({ status: 'stored' });
      expect(completed.body).toEqual({
        todo: stored.body,
        event: { id: stored.body.downstream.eventId, status: 'stored' },
      });
    });

    it('reports stored when the gateway kept the event for an offline user', async () => {
      const created = await call(service.url, 'POST', '/todos', { userid: 'offline', content: {} });
      const answer = await call(service.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`);
      expect(answer.body.event.status).toBe('stored');
      expect(answer.body.todo.downstream.status).toBe('stored');
    });

    it('returns the same event id when an already completed todo is completed again, without a second event', async () => {
      const created = await call(service.url, 'POST', '/todos', { userid: 'again', content: {} });
      const first = await call(service.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`);
      const second = await call(service.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`);
      expect(second.status).toBe(200);
      expect(second.body.event.id).toBe(first.body.event.id);
      expect(second.body.todo.completedAt).toBe(first.body.todo.completedAt);
      expect(receiver.ids()).toEqual([first.body.event.id]);
    });

    it('gives 20 parallel completes of one todo one event id', async () => {
      const created = await call(service.url, 'POST', '/todos', { userid: 'racer', content: {} });
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          call(service.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      const ids = new Set(answers.map((a) => a.body.event.id));
      expect(ids.size).toBe(1);
      // Requests that found the event being delivered by another report that delivery's outcome.
      expect(answers.map((a) => a.body.event.status)).toEqual(Array(20).fill('stored'));
      expect(new Set(receiver.ids())).toEqual(ids);
      const read = await call(service.url, 'GET', `/todos/${created.body.todoid}`);
      expect(ids).toEqual(new Set([read.body.downstream.eventId]));
    });

    it('gives a todo deleted and re-created under the same todoid a new event id', async () => {
      const created = await call(service.url, 'POST', '/todos', { userid: 'reborn', content: {} });
      const first = await call(service.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`);
      await call(service.url, 'DELETE', `/todos/${created.body.todoid}`);
      await call(service.url, 'POST', '/todos', {
        todoid: created.body.todoid,
        userid: 'reborn',
        content: {},
      });
      const second = await call(service.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`);
      expect(second.body.event.id).not.toBe(first.body.event.id);
    });

    it('answers 404 for an absent todo and 400 for a bad todoid', async () => {
      const absent = await call(service.url, 'POST', '/todos/987654321/complete/downstream');
      expect(absent.status).toBe(404);
      expect(absent.headers.get('content-type')).toContain('application/problem+json');
      expect((await call(service.url, 'POST', '/todos/1.5/complete/downstream')).status).toBe(400);
      expect(receiver.received).toHaveLength(0);
    });
  });

  describe('with the Event API elsewhere or slow', () => {
    it('posts under the path of EVENT_API_URL when the gateway is served under a prefix', async () => {
      const receiver = await new EventReceiver(0, '/gateway').start();
      const service = await startTestApp(
        todoService,
        serviceEnv('todo-service', testNamespace(), { EVENT_API_URL: `${receiver.url}/gateway/` }),
      );
      try {
        const created = await call(service.url, 'POST', '/todos', {
          userid: 'proxied@example.org',
          content: {},
        });
        const answer = await call(service.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`);
        expect(answer.body.event.status).toBe('stored');
        expect(receiver.received.map((e) => e.path)).toEqual([
          '/gateway/events/proxied%40example.org/downstream',
        ]);
      } finally {
        await service.close();
        await receiver.stop();
      }
    });

    /**
     * Completes a new todo of `userid` on a todo-service whose Event API is `eventApiUrl`, bounded at
     * 300 ms; the completion answers 200 with the event still pending. Returns the answer's body.
     */
    async function completeWithBoundedEventApi(eventApiUrl: string, userid: string) {
      const service = await startTestApp(
        todoService,
        serviceEnv('todo-service', testNamespace(), {
          EVENT_API_URL: eventApiUrl,
          EVENT_API_TIMEOUT_MS: '300',
        }),
      );
      try {
        const created = await call(service.url, 'POST', '/todos', { userid, content: {} });
        const answer = await call(service.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`);
        expect(answer.status).toBe(200);
        expect(answer.body.event.status).toBe('pending');
        return answer.body;
      } finally {
        await service.close();
      }
    }

    it('answers pending once EVENT_API_TIMEOUT_MS has passed without an answer from the gateway', async () => {
      const receiver = await new EventReceiver().start();
      receiver.hold();
      try {
        const answer = await completeWithBoundedEventApi(receiver.url, 'stalled');
        expect(receiver.ids()).toEqual([answer.event.id]);
      } finally {
        await receiver.stop();
      }
    });

    it('bounds the whole call by EVENT_API_TIMEOUT_MS, also when the gateway answers 202 and then trickles its body', async () => {
      // A byte every 100 ms: never silent for 300 ms, so only a bound on the whole call ends it.
      const trickles = new Set<NodeJS.Timeout>();
      const server = createServer((request, response) => {
        request.resume();
        response.writeHead(202, { 'content-type': 'application/json' });
        trickles.add(setInterval(() => response.write(' '), 100));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        await completeWithBoundedEventApi(
          `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          'trickled',
        );
      } finally {
        trickles.forEach(clearInterval);
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });

  describe('with the Event API down', () => {
    it('answers pending, then delivers the same event exactly once when a receiver starts listening', async () => {
      const ns = testNamespace();
      const port = await freePort();
      const service = await startTestApp(
        todoService,
        serviceEnv('todo-service', ns, { EVENT_API_URL: `http://127.0.0.1:${port}` }),
      );
      const receiver = new EventReceiver(port);
      try {
        const created = await call(service.url, 'POST', '/todos', { userid: 'late', content: { n: 1 } });
        const answer = await call(service.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`);
        expect(answer.status).toBe(200);
        expect(answer.body.event).toEqual({
          id: expect.stringMatching(COMPLETION_EVENT_ID),
          status: 'pending',
        });
        expect(answer.body.todo).toMatchObject({
          completed: true,
          downstream: { eventId: answer.body.event.id, status: 'pending', acknowledgedAt: null },
        });

        await receiver.start();
        await waitFor(
          async () =>
            (await call(service.url, 'GET', `/todos/${created.body.todoid}`)).body.downstream.status ===
            'stored',
          {
            timeoutMs: 10_000,
            description: 'the pending event to be accepted',
          },
        );
        expect(receiver.ids()).toEqual([answer.body.event.id]);
        expect(receiver.received[0].body).toMatchObject({
          type: TODO_COMPLETED_EVENT,
          data: { todoid: created.body.todoid, completed: true },
        });
      } finally {
        await service.close();
        await receiver.stop();
      }
    });

    it('keeps the pending event across a restart of the todo-service process and delivers it once', async () => {
      const ns = testNamespace();
      const port = await freePort();
      const env = serviceEnv('todo-service', ns, { EVENT_API_URL: `http://127.0.0.1:${port}` });
      const service = await spawnService('todo-service', env);
      const receiver = new EventReceiver(port);
      receiver.delivered = 1;
      try {
        const created = await call(service.url, 'POST', '/todos', { userid: 'restart', content: {} });
        const answer = await call(service.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`);
        expect(answer.body.event.status).toBe('pending');
        expect(await service.stop('SIGTERM')).toBe(0);

        await receiver.start();
        await service.start();
        await waitFor(
          async () =>
            (await call(service.url, 'GET', `/todos/${created.body.todoid}`)).body.downstream.status ===
            'delivered',
          {
            timeoutMs: 15_000,
            description: 'the pending event to be delivered after the restart',
          },
        );
        expect(receiver.ids()).toEqual([answer.body.event.id]);
      } finally {
        await service.stop();
        await receiver.stop();
      }
    });
  });
});
