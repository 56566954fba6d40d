export type InvalidTokenReason =
  | 'missing'
  | 'malformed'
  | 'signature'
  | 'algorithm'
  | 'expired'
  | 'not_yet_valid'
  | 'issuer'
  | 'audience'
  | 'claims'
  | 'revoked';

/** A token that must be refused. `reason` is safe to log; the message never contains the token. */
export class InvalidTokenError extends Error {
  constructor(
    readonly reason: InvalidTokenReason,
    detail?: string,
  ) {
    super(detail ?? `invalid token: ${reason}`);
    this.name = 'InvalidTokenError';
  }
}
