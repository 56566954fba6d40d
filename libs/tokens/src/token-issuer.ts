import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { RedisService } from '@app/redis';
import { isValidRoles, REVOCATION_CHANNEL, tokenRecordKey, type TokenRecord, USER_ID_PATTERN } from './claims';
import { signJwt, TokenKeys } from './jwt-codec';
import type { TokenConfig } from './token.config';
import type { TokenVerifier } from './token-verifier';

export interface IssueInput {
  sub: string;
  roles?: string[];
  /** Life in seconds; defaults to 3600. */
  expiresIn?: number;
}

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  jti: string;
}

export const DEFAULT_EXPIRES_IN = 3_600;

/**
 * Signs tokens and keeps their data in Redis (`auth:token:<jti>`, TTL = the token's life), and
 * revokes them (delete the record, announce the jti on the revocation channel). Services other than
 * the auth-service use it in tests to mint real tokens.
 */
@Injectable()
export class TokenIssuer {
  readonly keys: TokenKeys;

  constructor(
    readonly config: TokenConfig,
    private readonly redis: RedisService,
    private readonly verifier?: TokenVerifier,
  ) {
    this.keys = verifier?.keys ?? new TokenKeys(config);
  }

  /** False on a verifier that only has the public key. */
  get canIssue(): boolean {
    return this.keys.signingKey !== undefined;
  }

  async issue(input: IssueInput): Promise<IssuedToken> {
    const roles = input.roles ?? [];
    const expiresIn = input.expiresIn ?? DEFAULT_EXPIRES_IN;
    if (!USER_ID_PATTERN.test(input.sub)) {
      throw new RangeError('sub must be 1-128 characters of [A-Za-z0-9._@-]');
    }
    if (!isValidRoles(roles)) {
      throw new RangeError('roles must be at most 32 role names of [A-Za-z0-9._:@-]');
    }
    if (!Number.isInteger(expiresIn) || expiresIn < 1) {
      throw new RangeError('expiresIn must be a positive integer number of seconds');
    }
    const jti = randomBytes(16).toString('base64url');
    const { token, exp } = signJwt({ sub: input.sub, roles, jti, expiresIn }, this.keys);
    const record: TokenRecord = { jti, sub: input.sub, roles, exp };
    await this.redis.client.set(tokenRecordKey(jti), JSON.stringify(record), 'EX', expiresIn);
    return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, jti };
  }

  /** Revokes `jti` everywhere; resolves with whether a live record existed. */
  async revoke(jti: string): Promise<boolean> {
    const removed = await this.redis.client.del(tokenRecordKey(jti));
    this.verifier?.evict(jti);
    await this.redis.client.publish(this.redis.prefixed(REVOCATION_CHANNEL), jti);
    return removed > 0;
  }
}
