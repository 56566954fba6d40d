import {
  countedRequests,
  type LocalServer,
  type ServiceName,
  type ServiceProcess,
  runServiceToExit,
  serviceEnv,
  spawnService,
  startFerretDb,
  startRedisServer,
  testNamespace,
  waitFor,
} from '@app/testing';

/** Each service's dependencies, as /health/ready checks them. */
const DEPENDENCIES: Record<ServiceName, Array<'redis' | 'mongodb'>> = {
  'todo-service': ['mongodb', 'redis'],
  'event-gateway': ['redis'],
  'auth-service': ['redis'],
};

async function status(url: string): Promise<{ code: number; type: string | null; body: unknown }> {
  const response = await fetch(url);
  return { code: response.status, type: response.headers.get('content-type'), body: await response.json() };
}

describe.each(Object.keys(DEPENDENCIES) as ServiceName[])('%s boots against real servers', (name) => {
  const ns = testNamespace(name.replace(/-/g, ''));
  let redis: LocalServer;
  let mongo: LocalServer | undefined;
  let service: ServiceProcess;

  beforeAll(async () => {
    // Private servers: this test stops them, which must not disturb other test files.
    redis = await startRedisServer();
    if (DEPENDENCIES[name].includes('mongodb')) {
      mongo = await startFerretDb();
    }
    service = await spawnService(
      name,
      serviceEnv(name, ns, {
        REDIS_URL: redis.url,
        ...(mongo ? { MONGODB_URI: `${mongo.url}downstream` } : {}),
        HEALTH_TIMEOUT_MS: '500',
      }),
      { waitReady: true },
    );
  });

  afterAll(async () => {
    await service?.stop();
    await redis?.dispose();
    await mongo?.dispose();
  });

  it('answers /health/live, /health/ready, /metrics and the Swagger document', async () => {
    expect((await status(`${service.url}/health/live`)).code).toBe(200);
    const ready = await status(`${service.url}/health/ready`);
    expect(ready.code).toBe(200);
    for (const dependency of DEPENDENCIES[name]) {
      expect(ready.body).toMatchObject({ details: { [dependency]: { status: 'up' } } });
    }
    const metrics = await fetch(`${service.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain('http_server_request_duration_seconds_bucket');
    expect(text).toContain(`service="${name}"`);

    const docs = await status(`${service.url}/api-docs-json`);
    expect(docs.code).toBe(200);
    expect(docs.body).toMatchObject({
      openapi: expect.stringMatching(/^3\./),
      paths: expect.objectContaining({ '/health/ready': expect.anything() }),
    });
    expect((await fetch(`${service.url}/api-docs`)).headers.get('content-type')).toContain('text/html');
  });

  it('counts every response in http_server_request_duration_seconds by method, route and status', async () => {
    const count = (route: string, status: number, method = 'GET') =>
      countedRequests(service.url, method, route, status);
    const live = await count('/health/live', 200);
    const liveHead = await count('/health/live', 200, 'HEAD');
    const unmatched = await count('unmatched', 404);
    for (let i = 0; i < 3; i += 1) {
      expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
      expect((await fetch(`${service.url}/no-such-route-${i}`)).status).toBe(404);
    }
    expect((await fetch(`${service.url}/health/live`, { method: 'HEAD' })).status).toBe(200);
    expect(await count('/health/live', 200)).toBe(live + 3);
    expect(await count('/health/live', 200, 'HEAD')).toBe(liveHead + 1);
    expect(await count('unmatched', 404)).toBe(unmatched + 3);
  });

  it('answers unknown routes with problem+json and a request id', async () => {
    const response = await fetch(`${service.url}/no-such-route`, {
      headers: { 'X-Request-Id': 'trace-me-1' },
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.headers.get('x-request-id')).toBe('trace-me-1');
    expect(await response.json()).toMatchObject({ status: 404, title: 'Not Found', requestId: 'trace-me-1' });
  });

  it.each(DEPENDENCIES[name])(
    'reports 503 on /health/ready while %s is stopped, and 200 once it is back',
    async (dependency) => {
      const server = dependency === 'redis' ? redis : mongo!;
      await server.stop();
      try {
        const down = await waitFor(
          async () => {
            const answer = await status(`${service.url}/health/ready`);
            return answer.code === 503 ? answer : undefined;
          },
          { timeoutMs: 20_000, description: `/health/ready to report ${dependency} down` },
        );
        expect(down.type).toContain('application/problem+json');
        expect(down.body).toMatchObject({ status: 503, details: { [dependency]: { status: 'down' } } });
        expect((await status(`${service.url}/health/live`)).code).toBe(200);
      } finally {
        await server.start();
      }
      await waitFor(
        async () => {
          const ready = await status(`${service.url}/health/ready`);
          if (ready.code !== 200) {
            // Shown as the last error should it never recover: which check failed, and how.
            throw new Error(`${ready.code} ${JSON.stringify(ready.body)}`);
          }
          return true;
        },
        { timeoutMs: 30_000, description: `/health/ready to recover after ${dependency} restarted` },
      );
    },
  );

  it('drains on SIGTERM: exits with code 0', async () => {
    const other = await spawnService(
      name,
      serviceEnv(name, ns, {
        REDIS_URL: redis.url,
        ...(mongo ? { MONGODB_URI: `${mongo.url}downstream` } : {}),
      }),
    );
    expect(await other.stop('SIGTERM')).toBe(0);
  });
});

describe('a service with invalid configuration', () => {
  it.each<[ServiceName, Record<string, string>, string]>([
    ['todo-service', { MONGODB_URI: 'postgres://nope' }, 'MONGODB_URI'],
    ['todo-service', { PORT: 'eighty' }, 'PORT'],
    ['event-gateway', { REDIS_URL: 'not-a-url' }, 'REDIS_URL'],
    ['auth-service', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ])('%s exits non-zero with one line naming the variable (%j)', async (name, bad, variable) => {
    const ns = testNamespace('badconfig');
    const result = await runServiceToExit(name, { ...serviceEnv(name, ns), ...bad });
    expect(result.code).not.toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(variable);
    expect(lines[0]).toMatch(/invalid configuration/);
  });
});
