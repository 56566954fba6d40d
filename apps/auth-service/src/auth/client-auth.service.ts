import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DomainError, UnauthorizedError } from '@app/errors';
import { RedisService } from '@app/redis';
import type { AuthClient, AuthConfig } from '../config/auth.config';

const BASIC = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;
const SAFE_ID = /^[A-Za-z0-9._-]{1,64}$/;

export class ClientUnauthorizedError extends UnauthorizedError {
  constructor(detail: string) {
    super(detail);
  }
}

export class TooManyFailuresError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('too-many-requests', HttpStatus.TOO_MANY_REQUESTS, 'Too Many Requests', `too many failed client authentications; retry in ${retryAfterSeconds} s`);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * HTTP Basic client authentication against AUTH_CLIENTS, with a constant-time secret comparison and
 * a Redis counter of failures per client id and IP address (fixed window).
 */
@Injectable()
export class ClientAuthService {
  private readonly clients: Map<string, Buffer>;
  /** Compared against when the client id is unknown, so unknown ids take as long as known ones. */
  private readonly dummy = digest('no-such-client-secret');
  private readonly limit: { failures: number; windowSeconds: number };

  constructor(
    config: ConfigService<AuthConfig, true>,
    private readonly redis: RedisService,
  ) {
    const auth = config.getOrThrow('auth', { infer: true });
    this.clients = new Map(auth.clients.map((client: AuthClient) => [client.id, digest(client.secret)]));
    this.limit = auth.rateLimit;
  }

  /** Resolves with the client id, or throws ClientUnauthorizedError / TooManyFailuresError. */
  async authenticate(authorization: string | undefined, ip: string): Promise<string> {
    const credentials = this.parse(authorization);
    const counter = `auth:client-failures:${credentials && SAFE_ID.test(credentials.id) ? credentials.id : '-'}:${ip}`;
    const failures = Number((await this.redis.client.get(counter)) ?? 0);
    if (failures >= this.limit.failures) {
      const ttl = await this.redis.client.ttl(counter);
      throw new TooManyFailuresError(ttl > 0 ? ttl : this.limit.windowSeconds);
    }
    if (!credentials) {
      await this.fail(counter);
      throw new ClientUnauthorizedError('client authentication required: HTTP Basic with a configured client id and secret');
    }
    const expected = this.clients.get(credentials.id);
    const matches = timingSafeEqual(digest(credentials.secret), expected ?? this.dummy);
    if (!expected || !matches) {
      await this.fail(counter);
      throw new ClientUnauthorizedError('unknown client or wrong client secret');
    }
    return credentials.id;
  }

  private parse(authorization: string | undefined): { id: string; secret: string } | undefined {
    if (!authorization || authorization.length > 1_024) {
      return undefined;
    }
    const match = BASIC.exec(authorization);
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

  private async fail(counter: string): Promise<void> {
    await this.redis.client.multi().set(counter, 0, 'EX', this.limit.windowSeconds, 'NX').incr(counter).exec();
  }
}
