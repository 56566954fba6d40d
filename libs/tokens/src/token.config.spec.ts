import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, validateEnv } from '@app/config';
import { TokenEnv, tokenConfigFromEnv } from './token.config';

function load(env: Record<string, string>) {
  return tokenConfigFromEnv(validateEnv(TokenEnv, env));
}

function failure(env: Record<string, string>): ConfigError {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const secret = 's'.repeat(32);
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const otherEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pemOf = (key: { export(options: object): string | Buffer }, type: 'pkcs8' | 'spki') => key.export({ type, format: 'pem' }).toString();

describe('tokenConfigFromEnv', () => {
  it('defaults to HS256 with issuer downstream-auth, audience downstream and 5 s of clock skew', () => {
    expect(load({ JWT_SECRET: secret })).toMatchObject({
      algorithm: 'HS256',
      secret,
      issuer: 'downstream-auth',
      audience: 'downstream',
      clockSkewSeconds: 5,
    });
  });

  it('requires JWT_SECRET for HS256', () => {
    expect(failure({}).variable).toBe('JWT_SECRET');
  });

  it('refuses a JWT_SECRET shorter than 32 bytes without echoing it', () => {
    const error = failure({ JWT_SECRET: 'short-secret-value' });
    expect(error.variable).toBe('JWT_SECRET');
    expect(error.message).toBe('invalid configuration: JWT_SECRET must be at least 32 bytes');
    expect(error.message).not.toContain('short-secret-value');
  });

  it('rejects an algorithm outside the allow-list, including none', () => {
    expect(failure({ JWT_SECRET: secret, JWT_ALGORITHM: 'none' }).variable).toBe('JWT_ALGORITHM');
    expect(failure({ JWT_SECRET: secret, JWT_ALGORITHM: 'HS512' }).variable).toBe('JWT_ALGORITHM');
  });

  it('rejects a negative or huge clock skew', () => {
    expect(failure({ JWT_SECRET: secret, JWT_CLOCK_SKEW_SECONDS: '-1' }).variable).toBe('JWT_CLOCK_SKEW_SECONDS');
    expect(failure({ JWT_SECRET: secret, JWT_CLOCK_SKEW_SECONDS: '3600' }).variable).toBe('JWT_CLOCK_SKEW_SECONDS');
  });

  it('derives the public key of ES256 from the private key, accepting escaped newlines', () => {
    const oneLine = pemOf(ec.privateKey, 'pkcs8').replace(/\n/g, '\\n');
    const config = load({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: oneLine });
    expect(config.publicKey).toBe(pemOf(ec.publicKey, 'spki'));
    expect(config.privateKey).toContain('BEGIN PRIVATE KEY');
    expect(config.secret).toBeUndefined();
  });

  it('accepts a verifier with only the public key', () => {
    const config = load({ JWT_ALGORITHM: 'RS256', JWT_PUBLIC_KEY: pemOf(rsa.publicKey, 'spki') });
    expect(config.privateKey).toBeUndefined();
    expect(config.publicKey).toBe(pemOf(rsa.publicKey, 'spki'));
  });

  it('requires a key for ES256 and RS256', () => {
    expect(failure({ JWT_ALGORITHM: 'ES256', JWT_SECRET: secret }).variable).toBe('JWT_PUBLIC_KEY');
  });

  it('rejects a key of the wrong type for the algorithm', () => {
    expect(failure({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: pemOf(rsa.privateKey, 'pkcs8') }).variable).toBe('JWT_PRIVATE_KEY');
    expect(failure({ JWT_ALGORITHM: 'RS256', JWT_PUBLIC_KEY: pemOf(ec.publicKey, 'spki') }).variable).toBe('JWT_PUBLIC_KEY');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(failure({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: pemOf(small.privateKey, 'pkcs8') }).message).toMatch(/at least 2048 bits/);
  });

  it('rejects garbage PEM and a private key given as JWT_PUBLIC_KEY', () => {
    expect(failure({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: 'not a key' }).variable).toBe('JWT_PRIVATE_KEY');
    expect(failure({ JWT_ALGORITHM: 'ES256', JWT_PUBLIC_KEY: 'not a key' }).variable).toBe('JWT_PUBLIC_KEY');
    expect(failure({ JWT_ALGORITHM: 'ES256', JWT_PUBLIC_KEY: pemOf(ec.privateKey, 'pkcs8') }).variable).toBe('JWT_PUBLIC_KEY');
  });

  it('rejects a public key that does not belong to the private key', () => {
    const error = failure({
      JWT_ALGORITHM: 'ES256',
      JWT_PRIVATE_KEY: pemOf(ec.privateKey, 'pkcs8'),
      JWT_PUBLIC_KEY: pemOf(otherEc.publicKey, 'spki'),
    });
    expect(error.message).toBe('invalid configuration: JWT_PUBLIC_KEY does not belong to JWT_PRIVATE_KEY');
  });
});
