import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { RedisService } from '@app/redis';
import { serviceEnv, startTestApp, type TestApp, testNamespace, TEST_SECRETS, waitFor } from '@app/testing';
import { tokenRecordKey } from '@app/tokens';
import { authService } from '../src/service';

/** Response bodies are checked field by field; `any` keeps the assertions short. */
type Json = any;
const asJson = (value: unknown): Json => value;

const PORTAL = `Basic ${Buffer.from('portal:portal-secret').toString('base64')}`;
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('auth-service /auth/verify', () => {
  const ns = testNamespace();
  let service: TestApp;
  let redis: RedisService;

  beforeAll(async () => {
    service = await startTestApp(authService, serviceEnv('auth-service', ns));
    redis = new RedisService({ url: ns.redisUrl, keyPrefix: ns.redisKeyPrefix });
  });

  afterAll(async () => {
    await service?.close();
    await redis?.onApplicationShutdown();
  });

  async function issue(body: Record<string, unknown> = { sub: 'test001', roles: ['editor', 'viewer'] }) {
    const response = await fetch(`${service.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: PORTAL },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(201);
    return (await response.json().then(asJson)) as { access_token: string; jti: string };
  }

  const verify = (headers: Record<string, string>, method = 'GET') => fetch(`${service.url}/auth/verify`, { method, headers });

  /** A token signed with the real secret: everything but the claims under test is right. */
  function sign(overrides: Record<string, unknown>, key: string = TEST_SECRETS.jwtSecret, options: jwt.SignOptions = { algorithm: 'HS256' }) {
    const claims = Object.fromEntries(
      Object.entries({ sub: 'test001', roles: [], jti: 'forged-jti', iat: now(), exp: now() + 600, iss: 'downstream-auth', aud: 'downstream', ...overrides }).filter(
        ([, value]) => value !== undefined,
      ),
    );
    return jwt.sign(claims, key, options);
  }

  function expectInvalid(response: Response, withToken = true): void {
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer/);
    if (withToken) {
      expect(challenge).toContain('error="invalid_token"');
    } else {
      expect(challenge).not.toContain('error=');
    }
    expect(response.headers.get('x-user-id')).toBeNull();
  }

  it.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])('answers 200 with X-User-Id, X-User-Roles and X-Token-Id for a good token (%s)', async (method) => {
    const issued = await issue();
    const response = await verify({ authorization: `Bearer ${issued.access_token}`, 'x-original-url': 'http://ingress/todos/7?x=1', 'x-original-method': 'PUT' }, method);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-user-id')).toBe('test001');
    expect(response.headers.get('x-user-roles')).toBe('editor,viewer');
    expect(response.headers.get('x-token-id')).toBe(issued.jti);
  });

  it('answers the Envoy ext-auth form, with the original path appended, the same way', async () => {
    const issued = await issue();
    const good = await fetch(`${service.url}/auth/verify/todos/7`, { headers: { authorization: `Bearer ${issued.access_token}` } });
    expect(good.status).toBe(200);
    expect(good.headers.get('x-user-id')).toBe('test001');
    expectInvalid(await fetch(`${service.url}/auth/verify/todos`), false);
  });

  it('answers with the identity as JSON, or a problem+json body, with the request id and security headers', async () => {
    const issued = await issue();
    const ok = await verify({ authorization: `Bearer ${issued.access_token}`, 'x-request-id': 'early-hook-ok' });
    expect(ok.headers.get('x-request-id')).toBe('early-hook-ok');
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(await ok.json()).toEqual({ sub: 'test001', roles: ['editor', 'viewer'], jti: issued.jti, exp: expect.any(Number) });
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');

    const bad = await fetch(`${service.url}/auth/verify/todos?secret=1`, { headers: { authorization: 'Bearer nope', 'x-request-id': 'early-hook-bad' } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({
      type: 'https://downstream.dev/problems/unauthorized',
      title: 'Unauthorized',
      status: 401,
      detail: 'invalid token: malformed',
      instance: '/auth/verify/todos',
      requestId: 'early-hook-bad',
    });
  });

  it('sends an empty X-User-Roles for a token without roles', async () => {
    const issued = await issue({ sub: 'plain-user' });
    const response = await verify({ authorization: `Bearer ${issued.access_token}` });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-user-roles')).toBe('');
  });

  it('reads the token from the access_token cookie', async () => {
    const issued = await issue();
    const response = await verify({ cookie: `theme=dark; access_token=${issued.access_token}; other=1` });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-user-id')).toBe('test001');
  });

  it('answers 401 with a bare Bearer challenge when no token is given', async () => {
    expectInvalid(await verify({}), false);
    expectInvalid(await verify({ cookie: 'theme=dark' }), false);
    expectInvalid(await verify({ authorization: PORTAL }), false);
  });

  it.each([
    ['garbage', 'garbage'],
    ['an empty bearer', ''],
    ['three dots', '...'],
    ['binary noise', Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37) % 256)).toString('base64')],
    ['a JSON header with a huge alg', `${b64({ alg: 'x'.repeat(2000) })}.${b64({})}.x`],
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'test001', jti: 'j', iat: now(), exp: now() + 60, iss: 'downstream-auth', aud: 'downstream' })}.`],
  ])('answers 401 invalid_token for %s', async (_label, token) => {
    expectInvalid(await verify({ authorization: `Bearer ${token}` }));
  });

  it('answers 401 for a tampered payload', async () => {
    const issued = await issue();
    const [header, payload, signature] = issued.access_token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tampered = `${header}.${b64({ ...claims, sub: 'admin', roles: ['admin'] })}.${signature}`;
    expectInvalid(await verify({ authorization: `Bearer ${tampered}` }));
  });

  it('answers 401 for a token signed with another key', async () => {
    expectInvalid(await verify({ authorization: `Bearer ${sign({}, 'another-secret-0123456789abcdef-0123456')}` }));
  });

  it('answers 401 for an RS256 token (HS/RS confusion the other way round)', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expectInvalid(await verify({ authorization: `Bearer ${jwt.sign({ sub: 'test001', jti: 'j', iss: 'downstream-auth', aud: 'downstream' }, privateKey, { algorithm: 'RS256' })}` }));
  });

  it.each([
    ['expired', { iat: now() - 3600, exp: now() - 60 }],
    ['not yet valid', { nbf: now() + 600 }],
    ['of another issuer', { iss: 'evil-issuer' }],
    ['for another audience', { aud: 'other-service' }],
    ['without a subject', { sub: undefined }],
    ['without a jti', { jti: undefined }],
  ])('answers 401 for a correctly signed token that is %s', async (_label, overrides) => {
    const issued = await issue();
    const claims = JSON.parse(Buffer.from(issued.access_token.split('.')[1], 'base64url').toString());
    expectInvalid(await verify({ authorization: `Bearer ${sign({ ...claims, ...overrides })}` }));
  });

  it('answers 401 for a correctly signed token that has no Redis record', async () => {
    expectInvalid(await verify({ authorization: `Bearer ${sign({ jti: 'never-issued' })}` }));
  });

  it('answers 401 for an issued token whose Redis record is gone', async () => {
    const issued = await issue();
    await redis.client.del(tokenRecordKey(issued.jti));
    expectInvalid(await verify({ authorization: `Bearer ${issued.access_token}` }));
  });

  it('answers 401 for a revoked token, also from the cookie', async () => {
    const issued = await issue();
    expect((await verify({ cookie: `access_token=${issued.access_token}` })).status).toBe(200);
    const revoked = await fetch(`${service.url}/auth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: PORTAL },
      body: JSON.stringify({ token: issued.access_token }),
    });
    expect(revoked.status).toBe(200);
    expectInvalid(await verify({ cookie: `access_token=${issued.access_token}` }));
    expectInvalid(await verify({ authorization: `Bearer ${issued.access_token}` }));
  });

  it('answers 401, not 5xx, for oversized Authorization and Cookie headers', async () => {
    expectInvalid(await verify({ authorization: `Bearer ${'a'.repeat(12_000)}` }));
    expectInvalid(await verify({ authorization: `Bearer ${'a'.repeat(3_000)}.${'b'.repeat(3_000)}.${'c'.repeat(3_000)}` }));
    expectInvalid(await verify({ cookie: `access_token=${'x'.repeat(12_000)}` }));
  });

  it('answers 4xx, never 5xx, for headers beyond the server limit', async () => {
    // Node refuses request headers above 16 KiB itself, with 431 (the ingress refuses them earlier still).
    const response = await verify({ authorization: `Bearer ${'a'.repeat(20_000)}` });
    expect(response.status).toBe(431);
  });

  it('answers 401 for a malformed cookie header and a Bearer header with extra parts', async () => {
    expectInvalid(await verify({ cookie: 'access_token=%E0%A4%A' }));
    const issued = await issue();
    expectInvalid(await verify({ authorization: `Bearer ${issued.access_token} extra` }));
  });

  it('answers 401 for a token whose header carries a forged HMAC over alg none', async () => {
    const header = b64({ alg: 'none' });
    const body = b64({ sub: 'test001', jti: 'j', iat: now(), exp: now() + 60, iss: 'downstream-auth', aud: 'downstream' });
    const mac = createHmac('sha256', TEST_SECRETS.jwtSecret).update(`${header}.${body}`).digest('base64url');
    expectInvalid(await verify({ authorization: `Bearer ${header}.${body}.${mac}` }));
  });

  it('answers HEAD like GET: 200 with the identity headers, or 401', async () => {
    const issued = await issue();
    const ok = await verify({ authorization: `Bearer ${issued.access_token}` }, 'HEAD');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-user-id')).toBe('test001');
    expect((await verify({}, 'HEAD')).status).toBe(401);
  });

  it('counts results by outcome in auth_verify_total', async () => {
    const issued = await issue();
    await verify({ authorization: `Bearer ${issued.access_token}` });
    await verify({ authorization: 'Bearer nonsense' });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/auth_verify_total\{[^}]*result="ok"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/auth_verify_total\{[^}]*result="malformed"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/auth_verify_total\{[^}]*result="missing"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/auth_tokens_issued_total\{[^}]*\} [1-9]/);
  });
});

describe('two auth-service instances on one Redis', () => {
  const ns = testNamespace();
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    first = await startTestApp(authService, serviceEnv('auth-service', ns));
    second = await startTestApp(authService, serviceEnv('auth-service', ns));
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
  });

  it('rejects on the second instance, within 1 s, a token revoked on the first', async () => {
    const issued = await (
      await fetch(`${first.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: PORTAL },
        body: JSON.stringify({ sub: 'replicated' }),
      })
    ).json().then(asJson);
    const bearer = { authorization: `Bearer ${issued.access_token}` };
    // Both instances have the token in their verification cache.
    for (let i = 0; i < 2; i += 1) {
      expect((await fetch(`${second.url}/auth/verify`, { headers: bearer })).status).toBe(200);
      expect((await fetch(`${first.url}/auth/verify`, { headers: bearer })).status).toBe(200);
    }
    const revoked = await fetch(`${first.url}/auth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: PORTAL },
      body: JSON.stringify({ jti: issued.jti }),
    });
    expect(revoked.status).toBe(200);
    const started = Date.now();
    await waitFor(async () => (await fetch(`${second.url}/auth/verify`, { headers: bearer })).status === 401, {
      timeoutMs: 1_000,
      intervalMs: 10,
      description: 'the second instance to reject the revoked token',
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await fetch(`${first.url}/auth/verify`, { headers: bearer })).status).toBe(401);
  });
});
