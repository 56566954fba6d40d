import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { serviceEnv, startTestApp, type TestApp, testNamespace, TEST_SECRETS } from '@app/testing';
import { authService } from '../src/service';

/** Response bodies are checked field by field; `any` keeps the assertions short. */
type Json = any;
const asJson = (value: unknown): Json => value;

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const PORTAL = basic('portal', 'portal-secret');

describe('auth-service token and revoke API (HS256)', () => {
  const ns = testNamespace();
  let service: TestApp;

  beforeAll(async () => {
    service = await startTestApp(authService, serviceEnv('auth-service', ns, { AUTH_RATE_LIMIT_FAILURES: '3' }));
  });

  afterAll(async () => {
    await service?.close();
  });

  const post = (path: string, body: unknown, authorization?: string, headers: Record<string, string> = {}) =>
    fetch(`${service.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}), ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('issues a signed token with sub, roles, jti, iat, exp, iss and aud for a configured client', async () => {
    const response = await post('/auth/token', { sub: 'test001', roles: ['editor'] }, PORTAL);
    expect(response.status).toBe(201);
    const body = await response.json().then(asJson);
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, jti: expect.any(String) });
    const claims = jwt.verify(body.access_token, TEST_SECRETS.jwtSecret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: 'test001', roles: ['editor'], jti: body.jti, iss: 'downstream-auth', aud: 'downstream' });
    expect(claims.exp! - claims.iat!).toBe(3600);
  });

  it('honours expires_in up to JWT_MAX_EXPIRES_IN and refuses more', async () => {
    const short = await post('/auth/token', { sub: 'test001', expires_in: 60 }, PORTAL);
    expect(short.status).toBe(201);
    expect((await short.json().then(asJson)).expires_in).toBe(60);
    const long = await post('/auth/token', { sub: 'test001', expires_in: 86_401 }, PORTAL);
    expect(long.status).toBe(400);
    expect(long.headers.get('content-type')).toContain('application/problem+json');
    expect(await long.json().then(asJson)).toMatchObject({ status: 400, errors: [{ field: 'expires_in' }] });
  });

  it.each([
    ['a missing sub', {}],
    ['a sub outside the userid character set', { sub: 'test 001' }],
    ['a sub longer than 128 characters', { sub: 'a'.repeat(129) }],
    ['roles that are not strings', { sub: 'test001', roles: [1] }],
    ['a role with a comma', { sub: 'test001', roles: ['a,b'] }],
    ['a non-integer expires_in', { sub: 'test001', expires_in: 1.5 }],
    ['a zero expires_in', { sub: 'test001', expires_in: 0 }],
    ['an unknown field', { sub: 'test001', admin: true }],
  ])('answers 400 problem+json for %s', async (_label, body) => {
    const response = await post('/auth/token', body, PORTAL);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('answers 400 for a body that is not JSON', async () => {
    const response = await post('/auth/token', '{"sub":', PORTAL);
    expect(response.status).toBe(400);
  });

  it.each([
    ['a wrong client secret', basic('portal', 'wrong-secret')],
    ['an unknown client', basic('nobody', 'portal-secret')],
    ['a Bearer header', 'Bearer abc.def.ghi'],
    ['a Basic header that is not base64', 'Basic !!!'],
    ['Basic credentials without a colon', `Basic ${Buffer.from('portal').toString('base64')}`],
    ['an empty Basic header', 'Basic '],
  ])('answers 401 with a Basic challenge for %s', async (_label, authorization) => {
    const response = await post('/auth/token', { sub: 'test001' }, authorization, { 'x-forwarded-for': `10.0.0.${Math.floor(Math.random() * 250)}` });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('answers 401 without any Authorization header, before looking at the body', async () => {
    const response = await post('/auth/token', { nonsense: true }, undefined, { 'x-forwarded-for': '10.1.0.1' });
    expect(response.status).toBe(401);
  });

  it('accepts the second configured client', async () => {
    expect((await post('/auth/token', { sub: 'ops-user' }, basic('ops', 'ops-secret'))).status).toBe(201);
  });

  it('rate-limits failed client authentications per client and address with 429 and Retry-After', async () => {
    const from = { 'x-forwarded-for': '192.0.2.77' };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await post('/auth/token', { sub: 'x' }, basic('portal', 'guess'), from)).status).toBe(401);
    }
    const limited = await post('/auth/token', { sub: 'x' }, basic('portal', 'guess'), from);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    // Even the right secret waits out the window from that address …
    expect((await post('/auth/token', { sub: 'x' }, PORTAL, from)).status).toBe(429);
    // … while another address is not affected.
    expect((await post('/auth/token', { sub: 'x' }, PORTAL, { 'x-forwarded-for': '192.0.2.78' })).status).toBe(201);
  });

  it('revokes by jti and by token, and reports a second revocation as already done', async () => {
    const first = await (await post('/auth/token', { sub: 'test002' }, PORTAL)).json().then(asJson);
    const byJti = await post('/auth/revoke', { jti: first.jti }, PORTAL);
    expect(byJti.status).toBe(200);
    expect(await byJti.json().then(asJson)).toEqual({ jti: first.jti, revoked: true });
    expect(await (await post('/auth/revoke', { jti: first.jti }, PORTAL)).json().then(asJson)).toEqual({ jti: first.jti, revoked: false });

    const second = await (await post('/auth/token', { sub: 'test002' }, PORTAL)).json().then(asJson);
    const byToken = await post('/auth/revoke', { token: second.access_token }, PORTAL);
    expect(byToken.status).toBe(200);
    expect(await byToken.json().then(asJson)).toEqual({ jti: second.jti, revoked: true });
    const verify = await fetch(`${service.url}/auth/verify`, { headers: { authorization: `Bearer ${second.access_token}` } });
    expect(verify.status).toBe(401);
  });

  it('answers 400 to a revocation without token or jti, with a bad jti, or with a foreign token', async () => {
    expect((await post('/auth/revoke', {}, PORTAL)).status).toBe(400);
    expect((await post('/auth/revoke', { jti: 'a/b' }, PORTAL)).status).toBe(400);
    const foreign = jwt.sign({ sub: 'x', jti: 'j' }, 'some-other-secret-0123456789abcdef-01', { algorithm: 'HS256' });
    const response = await post('/auth/revoke', { token: foreign }, PORTAL);
    expect(response.status).toBe(400);
    expect(await response.json().then(asJson)).toMatchObject({ errors: [{ field: 'token' }] });
  });

  it('requires client authentication to revoke', async () => {
    const response = await post('/auth/revoke', { jti: 'abc' }, basic('portal', 'nope'), { 'x-forwarded-for': '10.2.0.1' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic/);
  });

  it('publishes no JWKS keys for HS256', async () => {
    const response = await fetch(`${service.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(await response.json().then(asJson)).toEqual({ keys: [] });
  });

  it('documents every endpoint in Swagger', async () => {
    const document = await (await fetch(`${service.url}/api-docs-json`)).json().then(asJson);
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/auth/token', '/auth/revoke', '/auth/verify', '/.well-known/jwks.json']));
    expect(Object.keys(document.paths['/auth/verify'])).toEqual(expect.arrayContaining(['get', 'post', 'put', 'delete']));
    expect(document.paths['/auth/token'].post.responses).toEqual(expect.objectContaining({ 201: expect.anything(), 400: expect.anything(), 401: expect.anything(), 429: expect.anything() }));
    expect(document.components.schemas).toEqual(expect.objectContaining({ ProblemDto: expect.anything(), IssueTokenDto: expect.anything() }));
  });
});

describe('auth-service with ES256', () => {
  const ns = testNamespace();
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let service: TestApp;

  beforeAll(async () => {
    service = await startTestApp(
      authService,
      serviceEnv('auth-service', ns, {
        JWT_ALGORITHM: 'ES256',
        JWT_SECRET: undefined,
        JWT_PRIVATE_KEY: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      }),
    );
  });

  afterAll(async () => {
    await service?.close();
  });

  it('signs ES256 tokens that verify with the key published at /.well-known/jwks.json', async () => {
    const jwks = await (await fetch(`${service.url}/.well-known/jwks.json`)).json().then(asJson);
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) });
    expect(jwks.keys[0]).not.toHaveProperty('d');

    const issued = await (
      await fetch(`${service.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: PORTAL },
        body: JSON.stringify({ sub: 'test001' }),
      })
    ).json().then(asJson);
    const { createPublicKey } = await import('node:crypto');
    const key = createPublicKey({ key: jwks.keys[0], format: 'jwk' });
    const decoded = jwt.verify(issued.access_token, key, { algorithms: ['ES256'], complete: true });
    expect(decoded.header).toMatchObject({ alg: 'ES256', kid: jwks.keys[0].kid });

    const verify = await fetch(`${service.url}/auth/verify`, { headers: { authorization: `Bearer ${issued.access_token}` } });
    expect(verify.status).toBe(200);
  });

  it('refuses an HS256 token forged with the public key as HMAC secret', async () => {
    const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const now = Math.floor(Date.now() / 1000);
    const forged = jwt.sign({ sub: 'admin', roles: ['admin'], jti: 'forged', iat: now, exp: now + 60, iss: 'downstream-auth', aud: 'downstream' }, publicPem, {
      algorithm: 'HS256',
      allowInsecureKeySizes: true,
    } as jwt.SignOptions);
    const verify = await fetch(`${service.url}/auth/verify`, { headers: { authorization: `Bearer ${forged}` } });
    expect(verify.status).toBe(401);
    expect(verify.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });
});
