/* Fault 3 (issue 9): Redis (append-only file, as the chart and the local stack run it) is SIGKILLed
 * and restarted. Acknowledged writes survive: token records, stored inbox events, the registry entry
 * of a live socket. The three services report 503 on /health/ready during the outage, reconnect by
 * themselves and report 200 again. */
import {
  type LocalServer,
  serviceEnv,
  spawnService,
  startRedisServer,
  testNamespace,
  TEST_SECRETS,
  type ServiceProcess,
  waitFor,
} from '@app/testing';
import { completeTodo, connectUser, createTodo, requestJson, type UserClient, waitForIds } from './support';

const [clientId, clientSecret] = TEST_SECRETS.authClients.split(',')[0].split(':');
const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;

async function issue(authUrl: string, sub: string): Promise<string> {
  const response = await requestJson<{ access_token: string }>(`${authUrl}/auth/token`, {
    body: { sub },
    headers: { authorization: basic },
  });
  expect(response.status).toBe(201);
  return response.body.access_token;
}

async function readiness(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(5_000) })).status;
  } catch {
    return 0;
  }
}

describe('fault: Redis is killed and restarted with its append-only file', () => {
  const ns = testNamespace();
  let redis: LocalServer;
  let auth: ServiceProcess;
  let gateway: ServiceProcess;
  let todo: ServiceProcess;
  const clients: UserClient[] = [];

  beforeAll(async () => {
    redis = await startRedisServer({ appendOnly: true });
    const overrides = { REDIS_URL: redis.url, HEALTH_TIMEOUT_MS: '500', LOG_LEVEL: 'warn' };
    [auth, gateway] = await Promise.all([
      spawnService('auth-service', serviceEnv('auth-service', ns, overrides), { waitReady: true }),
      spawnService('event-gateway', serviceEnv('event-gateway', ns, overrides), { waitReady: true }),
    ]);
    todo = await spawnService(
      'todo-service',
      serviceEnv('todo-service', ns, { ...overrides, EVENT_API_URL: gateway.url }),
      { waitReady: true },
    );
  });

  afterAll(async () => {
    clients.forEach((client) => client.close());
    await Promise.all([auth?.stop(), gateway?.stop(), todo?.stop()]);
    await redis?.dispose();
  });

  it('keeps tokens, stored events and live registry entries, and every service goes 503 then 200 by itself', async () => {
    const offlineToken = await issue(auth.url, 'offline.user');
    const onlineToken = await issue(auth.url, 'online.user');
    const online = await connectUser(gateway.url, 'online.user', onlineToken);
    clients.push(online);

    const posted = await requestJson(`${gateway.url}/events/offline.user/downstream`, {
      body: { id: 'before-crash-1', type: 'test', data: { n: 1 } },
    });
    expect(posted.status).toBe(202);
    expect(posted.body).toMatchObject({
      id: 'before-crash-1',
      userid: 'offline.user',
      delivered: 0,
      stored: true,
    });
    const created = await createTodo(todo.url, 'offline.user');
    const completion = await completeTodo(todo.url, created.todoid);
    expect(['stored', 'delivered']).toContain(completion.event.status);
    await waitFor(
      async () =>
        (await requestJson<Array<{ socketId: string }>>(`${gateway.url}/clients/online.user`)).body?.some?.(
          (entry) => entry.socketId === online.socket.id,
        ),
      {
        description: 'the online socket in client-list',
      },
    );

    await redis.stop('SIGKILL');
    const outageStarted = Date.now();
    for (const service of [auth, gateway, todo]) {
      await waitFor(async () => (await readiness(service.url)) === 503, {
        timeoutMs: 15_000,
        description: `${service.name} /health/ready to answer 503 during the outage`,
      });
    }
    const outageDetectedMs = Date.now() - outageStarted;
    // Liveness does not depend on Redis: nothing restarts the processes.
    for (const service of [auth, gateway, todo]) {
      expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
    }

    await redis.start();
    const restarted = Date.now();
    for (const service of [auth, gateway, todo]) {
      await waitFor(async () => (await readiness(service.url)) === 200, {
        timeoutMs: 30_000,
        description: `${service.name} /health/ready back to 200`,
      });
    }
    const recoveredMs = Date.now() - restarted;

    // Tokens issued before the crash still verify (their records were in the AOF).
    const verify = await fetch(`${auth.url}/auth/verify`, {
      headers: { authorization: `Bearer ${offlineToken}` },
    });
    expect(verify.status).toBe(200);
    expect(verify.headers.get('x-user-id')).toBe('offline.user');
    // And new ones can be issued.
    expect(await issue(auth.url, 'after.user')).toEqual(expect.any(String));

    // The stored events of the offline user are replayed when it connects.
    const offline = await connectUser(gateway.url, 'offline.user', offlineToken);
    clients.push(offline);
    await waitForIds(offline, ['before-crash-1', completion.event.id], 15_000);

    // The live socket is (again) in the registry, and events reach it.
    await waitFor(
      async () =>
        (await requestJson<Array<{ socketId: string }>>(`${gateway.url}/clients/online.user`)).body?.some?.(
          (entry) => entry.socketId === online.socket.id,
        ),
      { timeoutMs: 20_000, description: 'the online socket in client-list after the restart' },
    );
    const after = await requestJson(`${gateway.url}/events/online.user/downstream`, {
      body: { id: 'after-restart-1', data: { n: 2 } },
    });
    expect(after.status).toBe(202);
    await waitForIds(online, ['after-restart-1'], 10_000);

    process.stderr.write(
      `[reliability] redis SIGKILL: 503 seen on all three after ${outageDetectedMs} ms, 200 again ${recoveredMs} ms after restart\n`,
    );
  });
});
