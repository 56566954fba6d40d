import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { InvalidTokenError, type InvalidTokenReason } from './invalid-token.error';
import { signJwt, TokenKeys, verifyJwt } from './jwt-codec';
import { DEFAULT_VERIFY_CACHE, type TokenConfig } from './token.config';

const secret = 'unit-test-secret-0123456789abcdef-0123';
const base = { issuer: 'downstream-auth', audience: 'downstream', clockSkewSeconds: 5, cache: { ...DEFAULT_VERIFY_CACHE } };
const hs: TokenConfig = { ...base, algorithm: 'HS256', secret };
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (key: KeyObject, type: 'pkcs8' | 'spki') => key.export({ type, format: 'pem' }).toString();
const rs: TokenConfig = { ...base, algorithm: 'RS256', privateKey: pem(rsa.privateKey, 'pkcs8'), publicKey: pem(rsa.publicKey, 'spki') };
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const es: TokenConfig = { ...base, algorithm: 'ES256', privateKey: pem(ec.privateKey, 'pkcs8'), publicKey: pem(ec.publicKey, 'spki') };

const now = () => Math.floor(Date.now() / 1000);
const claims = (overrides: Record<string, unknown> = {}) => ({
  sub: 'test001',
  roles: ['editor'],
  jti: 'jti-1',
  iat: now(),
  exp: now() + 600,
  iss: 'downstream-auth',
  aud: 'downstream',
  ...overrides,
});
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function reason(token: string, keys: TokenKeys): InvalidTokenReason {
  try {
    verifyJwt(token, keys);
  } catch (error) {
    if (error instanceof InvalidTokenError) {
      return error.reason;
    }
    throw error;
  }
  throw new Error('expected the token to be refused');
}

describe('verifyJwt', () => {
  const keys = new TokenKeys(hs);
  const sign = (payload: object, key: string | KeyObject = secret, options: jwt.SignOptions = {}) =>
    jwt.sign(payload, key, { algorithm: 'HS256', ...options });

  it('accepts a good HS256 token and returns its identity', () => {
    const payload = claims();
    expect(verifyJwt(sign(payload), keys)).toEqual({ sub: 'test001', roles: ['editor'], jti: 'jti-1', exp: payload.exp, iat: payload.iat });
  });

  it('treats absent roles as no roles', () => {
    const { roles: _roles, ...payload } = claims();
    expect(verifyJwt(sign(payload), keys).roles).toEqual([]);
  });

  it('refuses an empty token as missing', () => {
    expect(reason('', keys)).toBe('missing');
  });

  it.each([
    ['garbage', 'not-a-jwt'],
    ['two segments', 'abc.def'],
    ['four segments', 'a.b.c.d'],
    ['a header that is not JSON', `${b64('{{{')}.${b64(claims())}.sig`],
    ['a header that is a JSON array', `${b64([1])}.${b64(claims())}.sig`],
    ['characters outside base64url', 'a+b.c/d.e='],
    ['an oversized token', `${b64({ alg: 'HS256' })}.${'a'.repeat(9_000)}.sig`],
  ])('refuses %s as malformed', (_label, token) => {
    expect(reason(token, keys)).toBe('malformed');
  });

  it('refuses a tampered payload', () => {
    const [header, , signature] = sign(claims()).split('.');
    expect(reason(`${header}.${b64(claims({ sub: 'admin' }))}.${signature}`, keys)).toBe('signature');
  });

  it('refuses a token signed with another key', () => {
    expect(reason(sign(claims(), 'another-secret-0123456789abcdef-0123456'), keys)).toBe('signature');
  });

  it('refuses alg none, with or without a signature part', () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`;
    expect(reason(unsigned, keys)).toBe('algorithm');
    expect(reason(`${unsigned}c2ln`, keys)).toBe('algorithm');
    expect(reason(`${b64({ alg: 'NONE' })}.${b64(claims())}.`, keys)).toBe('algorithm');
  });

  it('refuses a header without alg, and one with a critical extension', () => {
    const body = b64(claims());
    const mac = (header: string) => createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url');
    const noAlg = b64({ typ: 'JWT' });
    expect(reason(`${noAlg}.${body}.${mac(noAlg)}`, keys)).toBe('algorithm');
    const crit = b64({ alg: 'HS256', crit: ['exp'] });
    expect(reason(`${crit}.${body}.${mac(crit)}`, keys)).toBe('malformed');
  });

  it('refuses an HS256 token whose HMAC key is the RS256 public key (algorithm confusion)', () => {
    const rsKeys = new TokenKeys({ ...rs, privateKey: undefined });
    const body = b64(claims());
    const header = b64({ alg: 'HS256', typ: 'JWT' });
    const forged = createHmac('sha256', rs.publicKey!).update(`${header}.${body}`).digest('base64url');
    expect(reason(`${header}.${body}.${forged}`, rsKeys)).toBe('algorithm');
  });

  it('refuses an RS256 token when HS256 is configured', () => {
    expect(reason(jwt.sign(claims(), rsa.privateKey, { algorithm: 'RS256' }), keys)).toBe('algorithm');
  });

  it('refuses an expired token, allowing the configured clock skew', () => {
    expect(reason(sign(claims({ iat: now() - 100, exp: now() - 10 })), keys)).toBe('expired');
    expect(verifyJwt(sign(claims({ iat: now() - 100, exp: now() - 2 })), keys).sub).toBe('test001');
  });

  it('refuses a token that is not yet valid, allowing the configured clock skew', () => {
    expect(reason(sign(claims({ nbf: now() + 60 })), keys)).toBe('not_yet_valid');
    expect(verifyJwt(sign(claims({ nbf: now() + 2 })), keys).sub).toBe('test001');
  });

  it('refuses a wrong or missing issuer', () => {
    expect(reason(sign(claims({ iss: 'someone-else' })), keys)).toBe('issuer');
    expect(reason(sign(claims({ iss: undefined })), keys)).toBe('issuer');
  });

  it('refuses a wrong or missing audience', () => {
    expect(reason(sign(claims({ aud: 'elsewhere' })), keys)).toBe('audience');
    expect(reason(sign(claims({ aud: undefined })), keys)).toBe('audience');
  });

  it.each([
    ['a missing sub', { sub: undefined }],
    ['a sub outside the userid character set', { sub: 'bad user' }],
    ['a sub longer than 128 characters', { sub: 'a'.repeat(129) }],
    ['a missing jti', { jti: undefined }],
    ['a jti with odd characters', { jti: 'a/b' }],
    ['a missing exp', { exp: undefined }],
    ['a missing iat', { iat: undefined }, { noTimestamp: true }],
    ['roles that are not a list', { roles: 'admin' }],
    ['a role with a comma', { roles: ['a,b'] }],
  ])('refuses %s', (_label, overrides, options: jwt.SignOptions = {}) => {
    const payload = Object.fromEntries(Object.entries(claims(overrides)).filter(([, value]) => value !== undefined));
    expect(reason(sign(payload, secret, options), keys)).toBe('claims');
  });

  it('refuses a payload that is not a JSON object', () => {
    const header = b64({ alg: 'HS256' });
    const body = b64('"just a string"');
    const mac = createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url');
    // jsonwebtoken parses it as a string, which then lacks the audience.
    expect(['malformed', 'audience']).toContain(reason(`${header}.${body}.${mac}`, keys));
  });
});

describe.each([
  ['RS256', rs],
  ['ES256', es],
])('%s tokens', (algorithm, config) => {
  it('round-trip through signJwt and a verifier holding only the public key', () => {
    const signer = new TokenKeys(config);
    const verifier = new TokenKeys({ ...config, privateKey: undefined });
    const { token, exp } = signJwt({ sub: 'u@example.com', roles: [], jti: 'j1', expiresIn: 60 }, signer);
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString())).toMatchObject({ alg: algorithm, kid: signer.kid });
    expect(verifyJwt(token, verifier)).toMatchObject({ sub: 'u@example.com', jti: 'j1', exp });
  });

  it('are refused when signed by another key pair', () => {
    const other =
      algorithm === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = jwt.sign(claims(), other.privateKey, { algorithm: algorithm as jwt.Algorithm });
    expect(reason(token, new TokenKeys(config))).toBe('signature');
  });

  it('publish their public key as a JWK with kid, alg and use', () => {
    const keys = new TokenKeys({ ...config, privateKey: undefined });
    const [jwk] = keys.jwks().keys;
    expect(jwk).toMatchObject({ kid: keys.kid, alg: algorithm, use: 'sig', kty: algorithm === 'ES256' ? 'EC' : 'RSA' });
    expect(jwk).not.toHaveProperty('d');
  });
});

describe('TokenKeys', () => {
  it('publishes no keys for HS256', () => {
    expect(new TokenKeys(hs).jwks()).toEqual({ keys: [] });
  });

  it('cannot sign without a private key', () => {
    const keys = new TokenKeys({ ...es, privateKey: undefined });
    expect(keys.signingKey).toBeUndefined();
    expect(() => signJwt({ sub: 'a', roles: [], jti: 'j', expiresIn: 1 }, keys)).toThrow(/JWT_PRIVATE_KEY/);
  });
});
