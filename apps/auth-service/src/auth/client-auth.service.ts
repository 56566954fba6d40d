import { HttpStatus, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DomainError, UnauthorizedError } from '@app/errors';
import { parseBasicAuth, sameSecret, secretDigest } from '@app/http';
import { RedisService } from '@app/redis';
import type { AuthClient, AuthConfig } from '../config/auth.config';

const SAFE_ID = /^[A-Za-z0-9._-]{1,64}$/;

export class ClientUnauthorizedError extends UnauthorizedError {
  constructor(detail: string) {
    super(detail);
  }
}

export class TooManyFailuresError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      'too-many-requests',
      HttpStatus.TOO_MANY_REQUESTS,
      'Too Many Requests',
      `too many failed client authentications; retry in ${retryAfterSeconds} s`,
    );
  }
}

/**
 * HTTP Basic client authentication against AUTH_CLIENTS, with a constant-time secret comparison and
 * a Redis counter of failures per client id and IP address (fixed window).
 */
@Injectable()
export class ClientAuthService {
  private readonly clients: Map<string, Buffer>;
  /** Compared against when the client id is unknown, so unknown ids take as long as known ones. */
  private readonly dummy = secretDigest('no-such-client-secret');
  private readonly limit: { failures: number; windowSeconds: number };

  constructor(
    config: ConfigService<AuthConfig, true>,
    private readonly redis: RedisService,
  ) {
    const auth = config.getOrThrow('auth', { infer: true });
    this.clients = new Map(
      auth.clients.map((client: AuthClient) => [client.id, secretDigest(client.secret)]),
    );
    this.limit = auth.rateLimit;
  }

  /** Resolves with the client id, or throws ClientUnauthorizedError / TooManyFailuresError. */
  async authenticate(authorization: string | undefined, ip: string): Promise<string> {
    const credentials = parseBasicAuth(authorization);
    const counter = `auth:client-failures:${credentials && SAFE_ID.test(credentials.id) ? credentials.id : '-'}:${ip}`;
    const failures = Number((await this.redis.client.get(counter)) ?? 0);
    if (failures >= this.limit.failures) {
      const ttl = await this.redis.client.ttl(counter);
      throw new TooManyFailuresError(ttl > 0 ? ttl : this.limit.windowSeconds);
    }
    if (!credentials) {
      await this.fail(counter);
      throw new ClientUnauthorizedError(
        'client authentication required: HTTP Basic with a configured client id and secret',
      );
    }
    const expected = this.clients.get(credentials.id);
    const matches = sameSecret(credentials.secret, expected ?? this.dummy);
    if (!expected || !matches) {
      await this.fail(counter);
      throw new ClientUnauthorizedError('unknown client or wrong client secret');
    }
    return credentials.id;
  }

  private async fail(counter: string): Promise<void> {
    await this.redis.client
      .multi()
      .set(counter, 0, 'EX', this.limit.windowSeconds, 'NX')
      .incr(counter)
      .exec();
  }
}
