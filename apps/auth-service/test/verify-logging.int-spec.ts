import { serviceEnv, spawnService, type ServiceProcess, testNamespace, waitFor } from '@app/testing';

const PORTAL = `Basic ${Buffer.from('portal:portal-secret').toString('base64')}`;

async function issue(service: ServiceProcess, sub: string): Promise<{ access_token: string; jti: string }> {
  return (await (
    await fetch(`${service.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: PORTAL },
      body: JSON.stringify({ sub }),
    })
  ).json()) as { access_token: string; jti: string };
}

/** The "request completed" line of a request id, parsed, if the service wrote it. */
const completedLine = (service: ServiceProcess, id: string): Record<string, unknown> | undefined =>
  service
    .output()
    .split('\n')
    .filter((text) => text.includes(id) && text.includes('"res"'))
    .map((text) => JSON.parse(text) as Record<string, unknown>)[0];

describe('auth-service logs of /auth/verify at LOG_LEVEL=debug', () => {
  const ns = testNamespace();
  let service: ServiceProcess;

  beforeAll(async () => {
    service = await spawnService('auth-service', serviceEnv('auth-service', ns, { LOG_LEVEL: 'debug' }));
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('log the original URL path and method from the ingress, the user and the refusal reason, never the token', async () => {
    const issued = await issue(service, 'logged-user');
    const ok = await fetch(`${service.url}/auth/verify`, {
      headers: {
        authorization: `Bearer ${issued.access_token}`,
        'x-original-url': 'http://ingress/todos/42?page=2',
        'x-original-method': 'DELETE',
        'x-request-id': 'verify-log-ok',
      },
    });
    expect(ok.status).toBe(200);
    const bad = await fetch(`${service.url}/auth/verify`, {
      headers: {
        cookie: `access_token=${issued.access_token}x`,
        'x-original-url': '/todos',
        'x-original-method': 'GET',
        'x-request-id': 'verify-log-bad',
      },
    });
    expect(bad.status).toBe(401);

    const line = (id: string) => completedLine(service, id);
    const okLine = await waitFor(() => line('verify-log-ok'), {
      description: 'the log line of the accepted request',
    });
    expect(okLine).toMatchObject({ level: 20, res: { statusCode: 200 } });
    expect(okLine).toMatchObject({
      originalUrl: 'http://ingress/todos/42',
      originalMethod: 'DELETE',
      userId: 'logged-user',
      tokenId: issued.jti,
    });
    const badLine = await waitFor(() => line('verify-log-bad'), {
      description: 'the log line of the refused request',
    });
    expect(badLine).toMatchObject({ level: 40, res: { statusCode: 401 } });
    expect(badLine).toMatchObject({ originalUrl: '/todos', originalMethod: 'GET', auth: 'signature' });
    expect(service.output()).not.toContain(issued.access_token.split('.')[2]);
  });

  it('keep query strings, which may carry secrets, out of every log line', async () => {
    const response = await fetch(`${service.url}/auth/verify?access_token=query-secret-1`, {
      headers: {
        'x-original-url': 'http://ingress/todos?api_key=query-secret-2',
        referer: 'http://portal/?sso=query-secret-3',
        'x-request-id': 'verify-log-query',
      },
    });
    expect(response.status).toBe(401);
    await waitFor(() => service.output().includes('verify-log-query'), {
      description: 'the log line of the request',
    });
    expect(service.output()).not.toMatch(/query-secret-\d/);
  });
});

describe('auth-service logs of /auth/verify at LOG_LEVEL=info (production)', () => {
  const ns = testNamespace();
  let service: ServiceProcess;

  beforeAll(async () => {
    service = await spawnService('auth-service', serviceEnv('auth-service', ns, { LOG_LEVEL: 'info' }));
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('log refusals and leave accepted verifications to the service behind the ingress', async () => {
    const issued = await issue(service, 'quiet-user');
    const headers = (token: string, id: string) => ({
      authorization: `Bearer ${token}`,
      'x-original-url': '/todos',
      'x-request-id': id,
    });
    expect(
      (await fetch(`${service.url}/auth/verify`, { headers: headers(issued.access_token, 'verify-info-ok') }))
        .status,
    ).toBe(200);
    expect(
      (
        await fetch(`${service.url}/auth/verify`, {
          headers: headers(`${issued.access_token}x`, 'verify-info-bad'),
        })
      ).status,
    ).toBe(401);
    // Lines are written in order: once the refusal's is out, the acceptance's would be too.
    const badLine = await waitFor(() => completedLine(service, 'verify-info-bad'), {
      description: 'the log line of the refused request',
    });
    expect(badLine).toMatchObject({ level: 40, auth: 'signature' });
    expect(completedLine(service, 'verify-info-ok')).toBeUndefined();
  });
});
