import { type LocalServer, serviceEnv, startRedisServer, startTestApp, type TestApp, testNamespace, waitFor } from '@app/testing';
import { authService } from '../src/service';

const PORTAL = `Basic ${Buffer.from('portal:portal-secret').toString('base64')}`;

describe('auth-service while Redis is down', () => {
  const ns = testNamespace();
  let redis: LocalServer;
  let service: TestApp;

  beforeAll(async () => {
    redis = await startRedisServer({ appendOnly: true });
    service = await startTestApp(authService, serviceEnv('auth-service', ns, { REDIS_URL: redis.url }));
  });

  afterAll(async () => {
    await service?.close();
    await redis?.dispose();
  });

  it('answers 503 problem+json, not 401 or 500, and verifies again once Redis is back', async () => {
    const issued = (await (
      await fetch(`${service.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: PORTAL },
        body: JSON.stringify({ sub: 'outage-user' }),
      })
    ).json()) as { access_token: string };
    const bearer = { authorization: `Bearer ${issued.access_token}` };
    expect((await fetch(`${service.url}/auth/verify`, { headers: bearer })).status).toBe(200);

    await redis.stop();
    try {
      // Once the revocation channel is lost the cache is bypassed: the Redis record cannot be checked.
      const down = await waitFor(
        async () => {
          const response = await fetch(`${service.url}/auth/verify`, { headers: bearer });
          return response.status === 503 ? response : undefined;
        },
        { timeoutMs: 10_000, description: '/auth/verify to answer 503' },
      );
      expect(down.headers.get('content-type')).toContain('application/problem+json');
      // A bad token is still a 401: it fails before Redis is asked.
      expect((await fetch(`${service.url}/auth/verify`, { headers: { authorization: 'Bearer garbage' } })).status).toBe(401);
      const token = await fetch(`${service.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: PORTAL },
        body: JSON.stringify({ sub: 'outage-user' }),
      });
      expect(token.status).toBe(503);
    } finally {
      await redis.start();
    }
    await waitFor(async () => (await fetch(`${service.url}/auth/verify`, { headers: bearer })).status === 200, {
      timeoutMs: 10_000,
      description: '/auth/verify to accept the token again',
    });
  });
});
