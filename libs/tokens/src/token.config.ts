import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { CommonEnv, ConfigError } from '@app/config';

export const TOKEN_ALGORITHMS = ['HS256', 'ES256', 'RS256'] as const;
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

/** Smallest HMAC secret accepted for HS256 (RFC 7518 3.2: a key of at least the hash size). */
export const MIN_SECRET_BYTES = 32;

/**
 * The JWT variables every service that issues or verifies tokens reads. App env classes extend this
 * class (it extends CommonEnv) and pass the result to `tokenConfigFromEnv`.
 */
export class TokenEnv extends CommonEnv {
  @IsOptional()
  @IsIn(TOKEN_ALGORITHMS, { message: `must be one of ${TOKEN_ALGORITHMS.join(', ')}` })
  JWT_ALGORITHM: TokenAlgorithm = 'HS256';

  /** HMAC secret for HS256; required (at least 32 bytes) when JWT_ALGORITHM is HS256. */
  @IsOptional()
  @IsString()
  JWT_SECRET?: string;

  /** PEM private key (ES256: EC P-256, RS256: RSA ≥ 2048 bits); only the issuer has it. */
  @IsOptional()
  @IsString()
  JWT_PRIVATE_KEY?: string;

  /** PEM public key for ES256/RS256; derived from JWT_PRIVATE_KEY when absent. */
  @IsOptional()
  @IsString()
  JWT_PUBLIC_KEY?: string;

  @IsOptional()
  @Matches(/^[\x21-\x7e]{1,256}$/, { message: 'must be 1-256 printable ASCII characters without spaces' })
  JWT_ISSUER: string = 'downstream-auth';

  @IsOptional()
  @Matches(/^[\x21-\x7e]{1,256}$/, { message: 'must be 1-256 printable ASCII characters without spaces' })
  JWT_AUDIENCE: string = 'downstream';

  @IsOptional()
  @IsInt({ message: 'must be an integer number of seconds' })
  @Min(0)
  @Max(300)
  JWT_CLOCK_SKEW_SECONDS: number = 5;
}

export type TokenEnvFields = Pick<
  TokenEnv,
  'JWT_ALGORITHM' | 'JWT_SECRET' | 'JWT_PRIVATE_KEY' | 'JWT_PUBLIC_KEY' | 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'JWT_CLOCK_SKEW_SECONDS'
>;

/** Typed token settings; apps put it under the `jwt` key of their config. */
export interface TokenConfig {
  algorithm: TokenAlgorithm;
  /** HS256 only. */
  secret?: string;
  /** ES256/RS256: PEM (PKCS#8) of the signing key; absent on pure verifiers. */
  privateKey?: string;
  /** ES256/RS256: PEM (SPKI) of the verification key. */
  publicKey?: string;
  issuer: string;
  audience: string;
  clockSkewSeconds: number;
  /** In-memory cache of positive verification results. */
  cache: { max: number; ttlMs: number };
}

export const DEFAULT_VERIFY_CACHE = { max: 10_000, ttlMs: 30_000 } as const;

/** PEM from an env var: accepts real newlines or `\n` escapes (one-line env files). */
function pem(value: string): string {
  return value.includes('\\n') ? value.replace(/\\n/g, '\n') : value;
}

function checkKeyType(key: KeyObject, algorithm: 'ES256' | 'RS256', variable: string): void {
  if (algorithm === 'ES256') {
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new ConfigError(variable, 'must be an EC P-256 key for ES256');
    }
  } else if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new ConfigError(variable, 'must be an RSA key of at least 2048 bits for RS256');
  }
}

function spki(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * Checks the cross-variable rules (which key the algorithm needs, its size and type) and returns the
 * typed config. Throws ConfigError naming the variable; never echoes a value.
 */
export function tokenConfigFromEnv(env: TokenEnvFields): TokenConfig {
  const common = {
    algorithm: env.JWT_ALGORITHM,
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    clockSkewSeconds: env.JWT_CLOCK_SKEW_SECONDS,
    cache: { ...DEFAULT_VERIFY_CACHE },
  };
  if (env.JWT_ALGORITHM === 'HS256') {
    if (!env.JWT_SECRET) {
      throw new ConfigError('JWT_SECRET', 'is required when JWT_ALGORITHM is HS256');
    }
    if (Buffer.byteLength(env.JWT_SECRET, 'utf8') < MIN_SECRET_BYTES) {
      throw new ConfigError('JWT_SECRET', `must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    return { ...common, secret: env.JWT_SECRET };
  }
  const algorithm = env.JWT_ALGORITHM;
  let privateKey: KeyObject | undefined;
  let publicKey: KeyObject | undefined;
  if (env.JWT_PRIVATE_KEY) {
    try {
      privateKey = createPrivateKey(pem(env.JWT_PRIVATE_KEY));
    } catch {
      throw new ConfigError('JWT_PRIVATE_KEY', 'must be a PEM private key');
    }
    checkKeyType(privateKey, algorithm, 'JWT_PRIVATE_KEY');
  }
  if (env.JWT_PUBLIC_KEY) {
    if (env.JWT_PUBLIC_KEY.includes('PRIVATE KEY')) {
      throw new ConfigError('JWT_PUBLIC_KEY', 'must be a public key, not a private key');
    }
    try {
      publicKey = createPublicKey(pem(env.JWT_PUBLIC_KEY));
    } catch {
      throw new ConfigError('JWT_PUBLIC_KEY', 'must be a PEM public key');
    }
    checkKeyType(publicKey, algorithm, 'JWT_PUBLIC_KEY');
  }
  if (privateKey && publicKey && spki(createPublicKey(privateKey)) !== spki(publicKey)) {
    throw new ConfigError('JWT_PUBLIC_KEY', 'does not belong to JWT_PRIVATE_KEY');
  }
  if (!privateKey && !publicKey) {
    throw new ConfigError('JWT_PUBLIC_KEY', `or JWT_PRIVATE_KEY is required when JWT_ALGORITHM is ${algorithm}`);
  }
  return {
    ...common,
    ...(privateKey ? { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() } : {}),
    publicKey: spki(publicKey ?? createPublicKey(privateKey!)),
  };
}
