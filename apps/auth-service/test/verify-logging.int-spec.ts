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
    expect(badLine).not.toHaveProperty('repeated');
    expect(service.output()).not.toContain(issued.access_token.split('.')[2]);
  });

  it('log a repeat of a refused token at debug, marked repeated', async () => {
    const issued = await issue(service, 'retrying-user');
    const refuse = async (id: string) =>
      (
        await fetch(`${service.url}/auth/verify`, {
          headers: { authorization: `Bearer ${issued.access_token}x`, 'x-request-id': id },
        })
      ).status;
    expect(await refuse('verify-log-first')).toBe(401);
    expect(await refuse('verify-log-again')).toBe(401);
    const again = await waitFor(() => completedLine(service, 'verify-log-again'), {
      description: 'the log line of the repeated refusal',
    });
    expect(again).toMatchObject({ level: 20, auth: 'signature', repeated: true, res: { statusCode: 401 } });
    expect(completedLine(service, 'verify-log-first')).toMatchObject({ level: 40, auth: 'signature' });
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

  it('log a refused token once, not each time a client retries it, and count every refusal', async () => {
    const issued = await issue(service, 'retrying-quiet-user');
    const dead = `${issued.access_token}x`;
    const ids = ['verify-info-retry-1', 'verify-info-retry-2', 'verify-info-retry-3'];
    for (const id of ids) {
      const response = await fetch(`${service.url}/auth/verify`, {
        headers: { authorization: `Bearer ${dead}`, 'x-request-id': id },
      });
      expect(response.status).toBe(401);
    }
    // A request logged after the retries: once its line is out, theirs would be too.
    const marker = await fetch(`${service.url}/auth/verify`, {
      headers: { 'x-request-id': 'verify-info-marker' },
    });
    expect(marker.status).toBe(401);
    await waitFor(() => completedLine(service, 'verify-info-marker'), { description: 'the marker line' });
    expect(ids.map((id) => completedLine(service, id)?.level)).toEqual([40, undefined, undefined]);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(
      Number(/auth_verify_total\{[^}]*result="signature"[^}]*\} (\d+)/.exec(metrics)?.[1]),
    ).toBe(4);
  });
});
