import { generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '@app/config';
import { loadAuthConfig, parseAuthClients } from './auth.config';

const base = { JWT_SECRET: 'x'.repeat(32), AUTH_CLIENTS: 'portal:portal-secret' };

function variableOf(env: Record<string, string>): string {
  try {
    loadAuthConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      return error.variable;
    }
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadAuthConfig', () => {
  it('reads defaults: port 3002, HS256, 3600 s default life, 86400 s maximum, 10 failures a minute', () => {
    const config = loadAuthConfig(base);
    expect(config.port).toBe(3002);
    expect(config.jwt).toMatchObject({ algorithm: 'HS256', issuer: 'downstream-auth', audience: 'downstream' });
    expect(config.auth).toEqual({
      clients: [{ id: 'portal', secret: 'portal-secret' }],
      defaultExpiresIn: 3600,
      maxExpiresIn: 86400,
      rateLimit: { failures: 10, windowSeconds: 60 },
    });
  });

  it('requires AUTH_CLIENTS', () => {
    expect(variableOf({ JWT_SECRET: base.JWT_SECRET })).toBe('AUTH_CLIENTS');
  });

  it('requires a JWT_SECRET of at least 32 bytes for HS256', () => {
    expect(variableOf({ AUTH_CLIENTS: base.AUTH_CLIENTS })).toBe('JWT_SECRET');
    expect(variableOf({ ...base, JWT_SECRET: 'short' })).toBe('JWT_SECRET');
  });

  it('requires the private key for ES256, since this service signs', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(variableOf({ ...base, JWT_ALGORITHM: 'ES256', JWT_PUBLIC_KEY: pem })).toBe('JWT_PRIVATE_KEY');
  });

  it('refuses a default life above the maximum', () => {
    expect(variableOf({ ...base, JWT_DEFAULT_EXPIRES_IN: '7200', JWT_MAX_EXPIRES_IN: '3600' })).toBe('JWT_DEFAULT_EXPIRES_IN');
  });
});

describe('parseAuthClients', () => {
  it('reads several clients, keeping colons inside a secret', () => {
    expect(parseAuthClients('portal:portal-secret, ops:ops:secret:x')).toEqual([
      { id: 'portal', secret: 'portal-secret' },
      { id: 'ops', secret: 'ops:secret:x' },
    ]);
  });

  it.each([
    ['an entry without a secret', 'portal'],
    ['an empty id', ':portal-secret'],
    ['an id with spaces', 'por tal:portal-secret'],
    ['a short secret', 'portal:tiny1'],
    ['a duplicate id', 'a:portal-secret,a:other-secret'],
    ['an empty entry', 'portal:portal-secret,'],
  ])('refuses %s without echoing the secret', (_label, value) => {
    expect(() => parseAuthClients(value)).toThrow(ConfigError);
    try {
      parseAuthClients(value);
    } catch (error) {
      expect((error as Error).message).not.toMatch(/portal-secret|other-secret|tiny1/);
    }
  });
});
