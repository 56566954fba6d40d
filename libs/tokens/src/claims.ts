import { USER_ID_PATTERN } from '@app/contracts';

/** What a verified token tells a service about its bearer. */
export interface VerifiedToken {
  sub: string;
  roles: string[];
  jti: string;
  exp: number;
  iat: number;
}

/** A role name: safe inside the comma-separated `X-User-Roles` header. */
export const ROLE_PATTERN = /^[A-Za-z0-9._:@-]{1,64}$/;
export const MAX_ROLES = 32;
export const JTI_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** Tokens longer than this are refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8_192;

export { USER_ID_PATTERN };

/** The Redis key holding a token's data; its absence means the token was revoked. */
export function tokenRecordKey(jti: string): string {
  return `auth:token:${jti}`;
}

/** The pub/sub channel (before the key prefix) on which revoked jtis are announced. */
export const REVOCATION_CHANNEL = 'auth:revocations';

/** What `auth:token:<jti>` holds. */
export interface TokenRecord {
  jti: string;
  sub: string;
  roles: string[];
  exp: number;
}

export function isValidRoles(roles: unknown): roles is string[] {
  return Array.isArray(roles) && roles.length <= MAX_ROLES && roles.every((role) => typeof role === 'string' && ROLE_PATTERN.test(role));
}
