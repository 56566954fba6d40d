import Redis from 'ioredis';
import { RECEIPTS_STREAM, TODO_COMPLETED_EVENT } from '@app/contracts';
import {
  type LocalServer,
  serviceEnv,
  startFerretDb,
  startRedisServer,
  startTestApp,
  testNamespace,
  waitFor,
  type TestApp,
} from '@app/testing';
import { todoService } from '../src/service';
import { EventReceiver } from './event-receiver';
import { call } from './http';

describe('todo-service when its dependencies fail', () => {
  const ns = testNamespace();
  let mongo: LocalServer;
  let redisServer: LocalServer;
  let receiver: EventReceiver;
  let service: TestApp;

  beforeAll(async () => {
    // Private servers: these tests stop them, which must not disturb other test files.
    [mongo, redisServer, receiver] = await Promise.all([
      startFerretDb(),
      startRedisServer(),
      new EventReceiver().start(),
    ]);
    service = await startTestApp(
      todoService,
      serviceEnv('todo-service', ns, {
        MONGODB_URI: `${mongo.url}resilience`,
        REDIS_URL: redisServer.url,
        EVENT_API_URL: receiver.url,
      }),
    );
  });

  afterAll(async () => {
    await service?.close();
    await receiver?.stop();
    await redisServer?.dispose();
    await mongo?.dispose();
  });

  it('answers 503 problem+json within a bounded time while MongoDB is down, and recovers', async () => {
    const created = await call(service.url, 'POST', '/todos', { userid: 'u1', content: {} });
    expect(created.status).toBe(201);
    await mongo.stop();
    try {
      for (const [method, path, body] of [
        ['GET', `/todos/${created.body.todoid}`, undefined],
        ['GET', '/todos', undefined],
        ['POST', '/todos', { userid: 'u1', content: {} }],
        ['POST', `/todos/${created.body.todoid}/complete/downstream`, undefined],
      ] as const) {
        const started = Date.now();
        const answer = await call(service.url, method, path, body);
        expect({ path, status: answer.status, type: answer.headers.get('content-type') }).toEqual({
          path,
          status: 503,
          type: expect.stringContaining('application/problem+json'),
        });
        expect(Date.now() - started).toBeLessThan(8_000);
      }
    } finally {
      await mongo.start();
    }
    await waitFor(
      async () => (await call(service.url, 'GET', `/todos/${created.body.todoid}`)).status === 200,
      {
        timeoutMs: 20_000,
        description: 'reads to work again after MongoDB restarted',
      },
    );
  });

  it('keeps consuming receipts after Redis restarts and loses its stream', async () => {
    const created = await call(service.url, 'POST', '/todos', { userid: 'u2', content: {} });
    const completed = await call(service.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`);
    expect(completed.body.event.status).toBe('stored');
    await redisServer.stop();
    await redisServer.start();
    const redis = new Redis(redisServer.url, { keyPrefix: ns.redisKeyPrefix });
    try {
      await redis.xadd(
        RECEIPTS_STREAM,
        '*',
        'eventId',
        completed.body.event.id,
        'userid',
        'u2',
        'type',
        TODO_COMPLETED_EVENT,
        'ackedAt',
        new Date().toISOString(),
      );
      await waitFor(
        async () =>
          (await call(service.url, 'GET', `/todos/${created.body.todoid}`)).body.downstream.status ===
          'acked',
        {
          timeoutMs: 15_000,
          description: 'the receipt written after the Redis restart to be recorded',
        },
      );
    } finally {
      redis.disconnect();
    }
  });
});

describe('several todo-service replicas', () => {
  it('dispatch each pending event once: one replica at a time holds it', async () => {
    const ns = testNamespace();
    const receiver = new EventReceiver(await (await import('@app/testing')).freePort());
    const env = serviceEnv('todo-service', ns, {
      EVENT_API_URL: receiver.url,
      OUTBOX_POLL_MS: '20',
      OUTBOX_BASE_BACKOFF_MS: '50',
    });
    const replicas = [await startTestApp(todoService, env), await startTestApp(todoService, env)];
    try {
      const eventIds: string[] = [];
      for (let i = 0; i < 10; i += 1) {
        const replica = replicas[i % 2];
        const created = await call(replica.url, 'POST', '/todos', { userid: `r${i}`, content: { i } });
        const completed = await call(
          replica.url,
          'POST',
          `/todos/${created.body.todoid}/complete/downstream`,
        );
        expect(completed.body.event.status).toBe('pending');
        eventIds.push(completed.body.event.id);
      }
      await receiver.start();
      await waitFor(
        async () =>
          (await call(replicas[0].url, 'GET', '/todos?downstream.status=stored')).body.length === 10,
        {
          timeoutMs: 15_000,
          description: 'all ten events to be accepted',
        },
      );
      expect([...receiver.ids()].sort()).toEqual([...eventIds].sort());
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
      await receiver.stop();
    }
  });
});
