import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { LRUCache } from 'lru-cache';
import { RedisService } from '@app/redis';
import { REVOCATION_CHANNEL, tokenRecordKey, type TokenRecord, type VerifiedToken } from './claims';
import { InvalidTokenError, type InvalidTokenReason } from './invalid-token.error';
import { TokenKeys, verifyJwt } from './jwt-codec';
import type { TokenConfig } from './token.config';

/**
 * Verifies access tokens the same way in every service: the stateless JWT checks of `verifyJwt`,
 * then the Redis record `auth:token:<jti>` (absent → revoked).
 *
 * Positive results are cached in memory (bounded, short TTL, never beyond `exp`). The cache is only
 * used while the subscription to the revocation channel is live; a revocation published by any
 * replica evicts the entry within milliseconds, and a lost subscription (Redis restart, network)
 * empties the cache and bypasses it until the subscription is back, so a missed message can never
 * keep a revoked token alive.
 *
 * Refusals are cached too (by token, bounded by the total length of the cached tokens): a refusal
 * never turns into an acceptance later (a revoked token stays revoked, an expired one expired, a bad
 * signature bad), except `not_yet_valid`, which is never cached. A client retrying a dead token, or a
 * flood of the same forged one, then costs a map lookup instead of a signature check.
 */
/** Total length of the tokens whose refusal is remembered (bounds the memory a flood can take). */
const REFUSED_CACHE_MAX_CHARS = 4 * 1024 * 1024;
const REFUSED_CACHE_TTL_MS = 5 * 60_000;

/** What the caches know about a token without any I/O: its identity, its refusal, or nothing. */
export type CachedVerdict = { ok: true; token: VerifiedToken } | { ok: false; reason: InvalidTokenReason } | undefined;

@Injectable()
export class TokenVerifier implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(TokenVerifier.name);
  readonly keys: TokenKeys;
  private readonly cache: LRUCache<string, VerifiedToken>;
  private readonly refused = new LRUCache<string, InvalidTokenReason>({
    maxSize: REFUSED_CACHE_MAX_CHARS,
    sizeCalculation: (_reason, token) => token.length || 1,
    ttl: REFUSED_CACHE_TTL_MS,
  });
  private subscriber?: Redis;
  private live = false;
  private stopping = false;
  private readonly channel: string;

  constructor(
    readonly config: TokenConfig,
    private readonly redis: RedisService,
  ) {
    this.keys = new TokenKeys(config);
    this.cache = new LRUCache<string, VerifiedToken>({ max: config.cache.max, ttl: config.cache.ttlMs });
    this.channel = redis.prefixed(REVOCATION_CHANNEL);
  }

  /** True while revocations reach this instance (the cache is in use only then). */
  get subscribed(): boolean {
    return this.live;
  }

  onModuleInit(): Promise<void> {
    const subscriber = this.redis.connect('token-revocations', { autoResubscribe: false, maxRetriesPerRequest: null });
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, jti: string) => {
      if (channel === this.channel) {
        this.evict(jti);
      }
    });
    const stale = (): void => {
      if (this.live && !this.stopping) {
        this.logger.warn('revocation channel lost: verification cache disabled until it is back');
      }
      this.live = false;
      this.cache.clear();
    };
    subscriber.on('close', stale);
    subscriber.on('reconnecting', stale);
    subscriber.on('end', stale);
    const subscribe = async (): Promise<void> => {
      try {
        await subscriber.subscribe(this.channel);
        // Anything cached before this point may have missed a revocation.
        this.cache.clear();
        this.live = subscriber.status === 'ready';
      } catch (error) {
        this.logger.warn(`could not subscribe to revocations: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    subscriber.on('ready', () => void subscribe());
    // Wait briefly for the first subscription so a fresh instance starts with its cache; never block boot on Redis.
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      timer.unref();
      const check = (): void => {
        if (this.live) {
          clearTimeout(timer);
          resolve();
        } else if (subscriber.status !== 'end') {
          setTimeout(check, 10).unref();
        }
      };
      check();
    });
  }

  /** The app is closing: the subscriber is about to be closed on purpose. */
  onModuleDestroy(): void {
    this.stopping = true;
  }

  /**
   * The verdict of the in-memory caches, synchronously (no promise, no I/O): the hot path of
   * `/auth/verify` answers from it when it can and falls back to `verify` otherwise.
   */
  peek(token: string): CachedVerdict {
    if (this.live) {
      const cached = this.cache.get(token);
      if (cached && cached.exp + this.config.clockSkewSeconds > Date.now() / 1000) {
        return { ok: true, token: cached };
      }
    }
    const reason = this.refused.get(token);
    return reason === undefined ? undefined : { ok: false, reason };
  }

  /**
   * Resolves with the token's identity, or rejects with InvalidTokenError (the bearer's fault) or a
   * Redis error (the service's: map it to 503, never to 401).
   */
  async verify(token: string): Promise<VerifiedToken> {
    const verdict = this.peek(token);
    if (verdict?.ok) {
      return verdict.token;
    }
    if (verdict) {
      throw new InvalidTokenError(verdict.reason);
    }
    try {
      return await this.check(token);
    } catch (error) {
      if (error instanceof InvalidTokenError && error.reason !== 'not_yet_valid') {
        this.refused.set(token, error.reason);
      }
      throw error;
    }
  }

  private async check(token: string): Promise<VerifiedToken> {
    const verified = verifyJwt(token, this.keys);
    const raw = await this.redis.client.get(tokenRecordKey(verified.jti));
    if (raw === null) {
      throw new InvalidTokenError('revoked');
    }
    let record: Partial<TokenRecord>;
    try {
      record = JSON.parse(raw) as Partial<TokenRecord>;
    } catch {
      throw new InvalidTokenError('revoked', 'invalid token: its record is unreadable');
    }
    if (record.sub !== verified.sub || record.jti !== verified.jti) {
      throw new InvalidTokenError('revoked', 'invalid token: its record belongs to another token');
    }
    if (this.live) {
      const remainingMs = verified.exp * 1000 - Date.now();
      if (remainingMs > 0) {
        this.cache.set(token, verified, { ttl: Math.min(this.config.cache.ttlMs, remainingMs) });
      }
    }
    return verified;
  }

  /** Drops every cached result for `jti` (called for each revocation message). */
  evict(jti: string): void {
    for (const [token, value] of this.cache.entries()) {
      if (value.jti === jti) {
        this.cache.delete(token);
      }
    }
  }

  /** Number of remembered refusals (for tests). */
  get refusedSize(): number {
    return this.refused.size;
  }

  /** Number of cached positive results (for tests and metrics). */
  get cacheSize(): number {
    return this.cache.size;
  }
}
