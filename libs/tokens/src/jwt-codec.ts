import { createHash, createPublicKey, createPrivateKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { InvalidTokenError } from './invalid-token.error';
import { isValidRoles, JTI_PATTERN, MAX_TOKEN_LENGTH, USER_ID_PATTERN, type VerifiedToken } from './claims';
import type { TokenConfig } from './token.config';

/** The key material of a TokenConfig, parsed once. */
export class TokenKeys {
  /** Key that checks signatures (HMAC secret or public key). */
  readonly verificationKey: KeyObject;
  /** Key that signs; undefined on a verifier that only has the public key. */
  readonly signingKey?: KeyObject;
  /** RFC 7638 thumbprint of the public key (asymmetric algorithms only); the `kid` of issued tokens. */
  readonly kid?: string;

  constructor(readonly config: TokenConfig) {
    if (config.algorithm === 'HS256') {
      if (!config.secret) {
        throw new Error('HS256 needs a secret');
      }
      this.verificationKey = createSecretKey(Buffer.from(config.secret, 'utf8'));
      this.signingKey = this.verificationKey;
    } else {
      if (!config.publicKey) {
        throw new Error(`${config.algorithm} needs a public key`);
      }
      this.verificationKey = createPublicKey(config.publicKey);
      this.signingKey = config.privateKey ? createPrivateKey(config.privateKey) : undefined;
      this.kid = jwkThumbprint(this.verificationKey);
    }
  }

  /** The public JWK set (`/.well-known/jwks.json`); empty for HS256, whose key is secret. */
  jwks(): { keys: Array<Record<string, unknown>> } {
    if (this.config.algorithm === 'HS256') {
      return { keys: [] };
    }
    const jwk = this.verificationKey.export({ format: 'jwk' }) as Record<string, unknown>;
    return { keys: [{ ...jwk, kid: this.kid, alg: this.config.algorithm, use: 'sig' }] };
  }
}

/** RFC 7638: SHA-256 over the required members of the JWK in lexicographic order, base64url. */
function jwkThumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function mapJwtError(error: unknown): InvalidTokenError {
  if (error instanceof jwt.TokenExpiredError) {
    return new InvalidTokenError('expired');
  }
  if (error instanceof jwt.NotBeforeError) {
    return new InvalidTokenError('not_yet_valid');
  }
  const message = error instanceof Error ? error.message : '';
  if (message === 'invalid signature' || message === 'jwt signature is required') {
    return new InvalidTokenError('signature');
  }
  if (message === 'invalid algorithm' || message.includes('must be a symmetric key') || message.includes('must be an asymmetric key')) {
    return new InvalidTokenError('algorithm');
  }
  if (message.startsWith('jwt issuer invalid')) {
    return new InvalidTokenError('issuer');
  }
  if (message.startsWith('jwt audience invalid')) {
    return new InvalidTokenError('audience');
  }
  return new InvalidTokenError('malformed');
}

/**
 * Stateless checks of a compact JWT: size, header algorithm (exactly the configured one: never
 * `none`, no HMAC/public-key confusion), signature, `exp`/`nbf` with the clock skew, `iss`, `aud`,
 * and the claims every service relies on (`sub`, `jti`, `roles`, `exp`, `iat`).
 * The Redis record (revocation) is checked by TokenVerifier on top of this. `ignoreExpiration` is
 * for revocation only (finding the jti of a genuine but expired token).
 */
export function verifyJwt(token: string, keys: TokenKeys, options: { ignoreExpiration?: boolean } = {}): VerifiedToken {
  if (!token) {
    throw new InvalidTokenError('missing');
  }
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) {
    throw new InvalidTokenError('malformed');
  }
  const { config } = keys;
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'));
  } catch {
    throw new InvalidTokenError('malformed');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new InvalidTokenError('malformed');
  }
  const { alg, crit } = header as { alg?: unknown; crit?: unknown };
  if (alg !== config.algorithm) {
    throw new InvalidTokenError('algorithm');
  }
  if (crit !== undefined) {
    // RFC 7515 4.1.11: critical extensions we do not understand make the token invalid.
    throw new InvalidTokenError('malformed');
  }
  let payload: unknown;
  try {
    payload = jwt.verify(token, keys.verificationKey, {
      algorithms: [config.algorithm],
      issuer: config.issuer,
      audience: config.audience,
      clockTolerance: config.clockSkewSeconds,
      ignoreExpiration: options.ignoreExpiration === true,
    });
  } catch (error) {
    throw mapJwtError(error);
  }
  if (typeof payload !== 'object' || payload === null) {
    throw new InvalidTokenError('malformed');
  }
  const claims = payload as Record<string, unknown>;
  const { sub, jti, exp, iat } = claims;
  const roles = claims.roles ?? [];
  if (typeof sub !== 'string' || !USER_ID_PATTERN.test(sub)) {
    throw new InvalidTokenError('claims', 'invalid token: sub is missing or not a valid user id');
  }
  if (typeof jti !== 'string' || !JTI_PATTERN.test(jti)) {
    throw new InvalidTokenError('claims', 'invalid token: jti is missing or invalid');
  }
  if (typeof exp !== 'number' || !Number.isFinite(exp) || typeof iat !== 'number' || !Number.isFinite(iat)) {
    throw new InvalidTokenError('claims', 'invalid token: exp and iat are required');
  }
  if (!isValidRoles(roles)) {
    throw new InvalidTokenError('claims', 'invalid token: roles must be a list of role names');
  }
  return { sub, roles: [...roles], jti, exp, iat };
}

export interface SignInput {
  sub: string;
  roles: string[];
  jti: string;
  expiresIn: number;
  /** Seconds since the epoch; defaults to now. */
  now?: number;
}

/** Signs the token TokenIssuer hands out. */
export function signJwt(input: SignInput, keys: TokenKeys): { token: string; iat: number; exp: number } {
  if (!keys.signingKey) {
    throw new Error(`no signing key configured for ${keys.config.algorithm} (JWT_PRIVATE_KEY is missing)`);
  }
  const iat = input.now ?? Math.floor(Date.now() / 1000);
  const exp = iat + input.expiresIn;
  const token = jwt.sign({ sub: input.sub, roles: input.roles, jti: input.jti, iat, exp, iss: keys.config.issuer, aud: keys.config.audience }, keys.signingKey, {
    algorithm: keys.config.algorithm,
    ...(keys.kid ? { keyid: keys.kid } : {}),
  });
  return { token, iat, exp };
}
