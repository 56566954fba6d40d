import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { ValidationError } from '@app/errors';
import { InvalidTokenError, type IssuedToken, TokenIssuer, TokenVerifier, verifyJwt } from '@app/tokens';
import type { AuthConfig } from '../config/auth.config';
import { TOKENS_ISSUED_METRIC } from './auth.metrics';
import type { IssueTokenDto } from './dto/issue-token.dto';
import type { RevokeResponseDto, RevokeTokenDto } from './dto/revoke-token.dto';

/** Issues and revokes tokens for authenticated clients. */
@Injectable()
export class AuthTokenService {
  private readonly defaultExpiresIn: number;
  private readonly maxExpiresIn: number;

  constructor(
    config: ConfigService<AuthConfig, true>,
    private readonly issuer: TokenIssuer,
    private readonly verifier: TokenVerifier,
    @InjectMetric(TOKENS_ISSUED_METRIC) private readonly issued: Counter<string>,
  ) {
    this.defaultExpiresIn = config.getOrThrow('auth.defaultExpiresIn', { infer: true });
    this.maxExpiresIn = config.getOrThrow('auth.maxExpiresIn', { infer: true });
  }

  async issue(body: IssueTokenDto): Promise<IssuedToken> {
    const expiresIn = body.expires_in ?? this.defaultExpiresIn;
    if (expiresIn > this.maxExpiresIn) {
      const message = `expires_in must not be greater than ${this.maxExpiresIn}`;
      throw new ValidationError(`expires_in: ${message}`, [{ field: 'expires_in', message }]);
    }
    const token = await this.issuer.issue({ sub: body.sub, roles: body.roles ?? [], expiresIn });
    this.issued.inc();
    return token;
  }

  /**
   * Revokes by jti, or by a token this service signed (expired ones included: they are already dead).
   * A token with a bad signature or malformed claims is a 400: it was never ours.
   */
  async revoke(body: RevokeTokenDto): Promise<RevokeResponseDto> {
    let jti = body.jti;
    if (body.token !== undefined) {
      try {
        jti = verifyJwt(body.token, this.verifier.keys, { ignoreExpiration: true }).jti;
      } catch (error) {
        if (error instanceof InvalidTokenError) {
          const message = `token is not a token issued by this service (${error.reason})`;
          throw new ValidationError(`token: ${message}`, [{ field: 'token', message }]);
        }
        throw error;
      }
      if (body.jti !== undefined && body.jti !== jti) {
        const message = 'jti does not belong to token';
        throw new ValidationError(`jti: ${message}`, [{ field: 'jti', message }]);
      }
    }
    if (jti === undefined) {
      const message = 'token or jti is required';
      throw new ValidationError(message, [{ field: 'token', message }]);
    }
    return { jti, revoked: await this.issuer.revoke(jti) };
  }
}
