import { createHash, timingSafeEqual } from 'node:crypto';

const BASIC = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;
/** Longer Authorization headers are refused unparsed. */
const MAX_HEADER_LENGTH = 1_024;

/** The user id and password of an `Authorization: Basic …` header (RFC 7617), if it has them. */
export function parseBasicAuth(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header || header.length > MAX_HEADER_LENGTH) {
    return undefined;
  }
  const match = BASIC.exec(header);
  if (!match) {
    return undefined;
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) {
    return undefined;
  }
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/**
 * A secret's fixed-length fingerprint (SHA-256), so that `sameSecret` compares equal lengths: keep
 * expected secrets in this form.
 */
export function secretDigest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Whether `given` is the secret whose digest is `expected`, in time independent of where they differ. */
export function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(secretDigest(given), expected);
}
