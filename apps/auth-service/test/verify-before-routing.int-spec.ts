import { connect } from 'node:net';
import { HttpAdapterHost } from '@nestjs/core';
import { TokenVerifier } from '@app/tokens';
import {
  countedRequests,
  serviceEnv,
  startTestApp,
  type TestApp,
  testNamespace,
  waitFor,
} from '@app/testing';
import { VerifyController } from '../src/auth/verify.controller';
import { VerifyEndpoint } from '../src/auth/verify.endpoint';
import { authService } from '../src/service';

const PORTAL = `Basic ${Buffer.from('portal:portal-secret').toString('base64')}`;
const NAMES = [
  'x-user-id',
  'x-user-roles',
  'x-token-id',
  'www-authenticate',
  'content-type',
  'cache-control',
  'x-request-id',
  'x-content-type-options',
];

/**
 * `/auth/verify` itself is answered from the HTTP server's `request` event, before Fastify routes the
 * request; paths below it go through Fastify's router to the adapter's first hook, ahead of Nest's
 * pipeline. Both must answer exactly as the Nest route does (reached here on an app whose hook is
 * replaced), count in the HTTP metrics and end keep-alive connections while the server drains.
 */
describe('auth-service /auth/verify, answered before routing and from the first hook', () => {
  const ns = testNamespace();
  const routed = jest.spyOn(VerifyEndpoint.prototype, 'handleRoute');
  const original = VerifyController.prototype.verify;
  const handler = jest.spyOn(VerifyController.prototype, 'verify');
  // Nest reads a route's path and method from metadata on the handler function itself.
  for (const key of Reflect.getMetadataKeys(original) as unknown[]) {
    Reflect.defineMetadata(key, Reflect.getMetadata(key, original), handler);
  }
  let service: TestApp;
  let plain: TestApp;
  let token: string;

  beforeAll(async () => {
    plain = await startTestApp(authService, serviceEnv('auth-service', ns));
    // Started last: its metrics are the ones in prom-client's global registry (startTestApp clears it).
    service = await startTestApp(authService, serviceEnv('auth-service', ns));
    // The adapter's hook replaced: paths below /auth/verify take Nest's whole pipeline.
    plain.app
      .get(HttpAdapterHost)
      .httpAdapter.setOnRequestHook((_request: unknown, _reply: unknown, done: () => void) => done());
    const issued = await fetch(`${service.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: PORTAL },
      body: JSON.stringify({ sub: 'early', roles: ['a', 'b'] }),
    });
    token = ((await issued.json()) as { access_token: string }).access_token;
  });

  afterAll(async () => {
    await service?.close();
    await plain?.close();
    routed.mockRestore();
    handler.mockRestore();
  });

  async function answers(app: TestApp, path: string) {
    const results = [];
    for (const headers of [
      { authorization: `Bearer ${token}` },
      { authorization: 'Bearer forged' },
      {},
    ] as Array<Record<string, string>>) {
      const response = await fetch(`${app.url}${path}`, {
        headers: { ...headers, 'x-request-id': 'same-id' },
      });
      const text = await response.text();
      expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
      const body = JSON.parse(text) as Record<string, unknown>;
      results.push({
        status: response.status,
        body: { ...body, instance: undefined },
        instance: body.instance,
        headers: NAMES.map((name) => response.headers.get(name)),
      });
    }
    return results;
  }

  it('answers /auth/verify without Fastify routing it, exactly as the Nest route answers', async () => {
    routed.mockClear();
    handler.mockClear();
    const early = await answers(service, '/auth/verify');
    const withQuery = await answers(service, '/auth/verify?rd=%2Ftodos');
    expect(routed).not.toHaveBeenCalled();
    expect(handler).not.toHaveBeenCalled();

    const fromRoute = await answers(plain, '/auth/verify/todos/1');
    expect(handler).toHaveBeenCalledTimes(3);

    expect(early.map((answer) => answer.status)).toEqual([200, 401, 401]);
    const withoutInstance = (list: typeof early) => list.map(({ instance: _instance, ...rest }) => rest);
    expect(withoutInstance(early)).toEqual(withoutInstance(fromRoute));
    expect(withoutInstance(withQuery)).toEqual(withoutInstance(fromRoute));
    expect(early.map((answer) => answer.instance)).toEqual([undefined, '/auth/verify', '/auth/verify']);
    expect(withQuery.map((answer) => answer.instance)).toEqual([undefined, '/auth/verify', '/auth/verify']);
    expect(early[0].body).toEqual({
      sub: 'early',
      roles: ['a', 'b'],
      jti: expect.any(String),
      exp: expect.any(Number),
      instance: undefined,
    });
  });

  it('answers paths below /auth/verify from the first Fastify hook, without the Nest handler, exactly as the Nest route does', async () => {
    routed.mockClear();
    handler.mockClear();
    const fromHook = await answers(service, '/auth/verify/todos/1');
    expect(routed).toHaveBeenCalledTimes(3);
    expect(handler).not.toHaveBeenCalled();
    const fromRoute = await answers(plain, '/auth/verify/todos/1');
    expect(handler).toHaveBeenCalledTimes(3);
    expect(fromHook.map((answer) => answer.status)).toEqual([200, 401, 401]);
    expect(fromHook).toEqual(fromRoute);
  });

  it('leaves every other path to Fastify: below /auth/verify the first hook answers, look-alikes are not verify', async () => {
    routed.mockClear();
    const below = await fetch(`${service.url}/auth/verify/todos/1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(below.status).toBe(200);
    expect(routed).toHaveBeenCalledTimes(1);
    for (const path of ['/auth/verifyx', '/auth/verif', '/Auth/verify']) {
      const response = await fetch(`${service.url}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
    expect(routed).toHaveBeenCalledTimes(1);
  });

  it('answers HEAD and any method, assigns a request id when none is given', async () => {
    const head = await fetch(`${service.url}/auth/verify`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('x-user-id')).toBe('early');
    expect(await head.text()).toBe('');
    const post = await fetch(`${service.url}/auth/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: 'ignored',
    });
    expect(post.status).toBe(200);
    expect(post.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('counts each answer in http_server_request_duration_seconds under the /auth/verify route', async () => {
    const count = (status: number) => countedRequests(service.url, 'GET', '/auth/verify', status);
    const [ok, refused] = [await count(200), await count(401)];
    for (let i = 0; i < 3; i += 1) {
      expect(
        (await fetch(`${service.url}/auth/verify`, { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(200);
      expect((await fetch(`${service.url}/auth/verify`)).status).toBe(401);
    }
    expect(await count(200)).toBe(ok + 3);
    expect(await count(401)).toBe(refused + 3);
  });

  it('answers 500 problem+json, and goes on serving, should building an answer throw', async () => {
    const peek = jest.spyOn(TokenVerifier.prototype, 'peek').mockImplementationOnce(() => {
      throw new Error('boom');
    });
    try {
      const failed = await fetch(`${service.url}/auth/verify`, {
        headers: { authorization: `Bearer ${token}`, 'x-request-id': 'broken-1' },
      });
      expect(failed.status).toBe(500);
      expect(failed.headers.get('content-type')).toContain('application/problem+json');
      expect(await failed.json()).toMatchObject({ status: 500, requestId: 'broken-1' });
    } finally {
      peek.mockRestore();
    }
    expect(
      (await fetch(`${service.url}/auth/verify`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
  });

  it('ends a keep-alive connection with Connection: close once the server has stopped listening (drain)', async () => {
    const draining = await startTestApp(authService, serviceEnv('auth-service', ns));
    const socket = connect(draining.port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    let peek: jest.SpyInstance | undefined;
    let verify: jest.SpyInstance | undefined;
    const request = `GET /auth/verify HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n\r\n`;
    let release: () => void = () => undefined;
    const verified = draining.app.get(TokenVerifier).verify(token);
    try {
      socket.write(request);
      await waitFor(() => received.includes('\r\n\r\n{'), { description: 'the first answer' });
      expect(received).not.toMatch(/\r\nconnection: close\r\n/i);
      // The second verification misses the cache and waits until the test lets it go.
      peek = jest.spyOn(TokenVerifier.prototype, 'peek').mockReturnValueOnce(undefined);
      verify = jest
        .spyOn(TokenVerifier.prototype, 'verify')
        .mockImplementationOnce(() => new Promise((resolve) => (release = () => resolve(verified))));
      socket.write(request);
      await waitFor(() => verify?.mock.calls.length === 1, {
        description: 'the second verification to start',
      });
      // What app.close() does first: the server stops accepting and closes idle connections only.
      draining.app.getHttpServer().close();
      release();
      const second = () => received.split(/(?=HTTP\/1\.1 \d{3} )/)[1] ?? '';
      await waitFor(() => second().endsWith('}'), { description: 'the second answer' });
      expect(second().slice(0, 12)).toBe('HTTP/1.1 200');
      expect(second()).toMatch(/\r\nconnection: close\r\n/i);
      await closed;
    } finally {
      peek?.mockRestore();
      verify?.mockRestore();
      socket.destroy();
      await draining.close();
    }
  });
});
