import { Test } from '@nestjs/testing';
import jwt from 'jsonwebtoken';
import { ConfigModule } from '@nestjs/config';
import { RedisModule, RedisService } from '@app/redis';
import { type LocalServer, startRedisServer, testNamespace, waitFor } from '@app/testing';
import {
  DEFAULT_VERIFY_CACHE,
  InvalidTokenError,
  type InvalidTokenReason,
  type TokenConfig,
  TokenIssuer,
  TokensModule,
  TokenVerifier,
  tokenRecordKey,
} from '@app/tokens';

const config: TokenConfig = {
  algorithm: 'HS256',
  secret: 'integration-secret-0123456789abcdef-0123',
  issuer: 'downstream-auth',
  audience: 'downstream',
  clockSkewSeconds: 5,
  cache: { ...DEFAULT_VERIFY_CACHE },
};

/** One "replica": its own Redis connections, verifier and issuer. */
async function replica(url: string, keyPrefix: string) {
  const redis = new RedisService({ url, keyPrefix });
  const verifier = new TokenVerifier(config, redis);
  await verifier.onModuleInit();
  const issuer = new TokenIssuer(config, redis, verifier);
  return {
    redis,
    verifier,
    issuer,
    close: async () => {
      verifier.onModuleDestroy();
      await redis.onApplicationShutdown();
    },
  };
}

async function refusal(verifier: TokenVerifier, token: string): Promise<InvalidTokenReason | 'accepted'> {
  try {
    await verifier.verify(token);
    return 'accepted';
  } catch (error) {
    if (error instanceof InvalidTokenError) {
      return error.reason;
    }
    throw error;
  }
}

describe('TokenVerifier and TokenIssuer on a real Redis', () => {
  const ns = testNamespace();
  let a: Awaited<ReturnType<typeof replica>>;
  let b: Awaited<ReturnType<typeof replica>>;

  beforeAll(async () => {
    a = await replica(ns.redisUrl, ns.redisKeyPrefix);
    b = await replica(ns.redisUrl, ns.redisKeyPrefix);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('subscribes to the revocation channel during module init', () => {
    expect(a.verifier.subscribed).toBe(true);
    expect(b.verifier.subscribed).toBe(true);
  });

  it('issues a Bearer token whose data is kept in Redis for exactly its life', async () => {
    const issued = await a.issuer.issue({ sub: 'test001', roles: ['editor', 'viewer'], expiresIn: 120 });
    expect(issued).toMatchObject({ token_type: 'Bearer', expires_in: 120, jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
    const key = tokenRecordKey(issued.jti);
    const record = JSON.parse((await a.redis.client.get(key))!);
    expect(record).toEqual({ jti: issued.jti, sub: 'test001', roles: ['editor', 'viewer'], exp: expect.any(Number) });
    const ttl = await a.redis.client.ttl(key);
    expect(ttl).toBeGreaterThan(115);
    expect(ttl).toBeLessThanOrEqual(120);
    // The prefix isolates test files (and stacks) sharing one Redis.
    expect(await a.redis.connect('raw', { keyPrefix: undefined }).exists(`${ns.redisKeyPrefix}${key}`)).toBe(1);
  });

  it('verifies a token issued by another replica and caches the result', async () => {
    const issued = await a.issuer.issue({ sub: 'user.two@example.com', roles: ['viewer'] });
    const verified = await b.verifier.verify(issued.access_token);
    expect(verified).toMatchObject({ sub: 'user.two@example.com', roles: ['viewer'], jti: issued.jti });
    expect(verified.exp - verified.iat).toBe(3600);
    const before = b.verifier.cacheSize;
    await b.verifier.verify(issued.access_token);
    expect(b.verifier.cacheSize).toBe(before);
    expect(before).toBeGreaterThan(0);
  });

  it('refuses a token whose Redis record is missing', async () => {
    const issued = await a.issuer.issue({ sub: 'test003' });
    await a.redis.client.del(tokenRecordKey(issued.jti));
    expect(await refusal(b.verifier, issued.access_token)).toBe('revoked');
  });

  it('refuses a token whose Redis record belongs to another subject', async () => {
    const issued = await a.issuer.issue({ sub: 'test004' });
    await a.redis.client.set(tokenRecordKey(issued.jti), JSON.stringify({ jti: issued.jti, sub: 'someone-else', roles: [], exp: 0 }));
    expect(await refusal(b.verifier, issued.access_token)).toBe('revoked');
  });

  it('answers a cached token synchronously with peek, and nothing for a token it has not seen', async () => {
    const issued = await a.issuer.issue({ sub: 'peek-user' });
    expect(b.verifier.peek(issued.access_token)).toBeUndefined();
    await b.verifier.verify(issued.access_token);
    expect(b.verifier.peek(issued.access_token)).toEqual({ ok: true, token: expect.objectContaining({ sub: 'peek-user', jti: issued.jti }) });
  });

  it('remembers a refusal, so the same dead token is refused again without Redis or a signature check', async () => {
    const issued = await a.issuer.issue({ sub: 'refused-user' });
    await a.redis.client.del(tokenRecordKey(issued.jti));
    const before = b.verifier.refusedSize;
    expect(await refusal(b.verifier, issued.access_token)).toBe('revoked');
    expect(b.verifier.refusedSize).toBe(before + 1);
    expect(b.verifier.peek(issued.access_token)).toEqual({ ok: false, reason: 'revoked' });
    // Even a record written back later does not revive it: a revoked token stays revoked.
    await a.redis.client.set(tokenRecordKey(issued.jti), JSON.stringify({ jti: issued.jti, sub: 'refused-user', roles: [], exp: 0 }));
    expect(await refusal(b.verifier, issued.access_token)).toBe('revoked');
    const forged = `${issued.access_token.slice(0, -4)}AAAA`;
    expect(await refusal(b.verifier, forged)).toBe('signature');
    expect(b.verifier.peek(forged)).toEqual({ ok: false, reason: 'signature' });
  });

  it('never remembers not_yet_valid, which a later check may accept', async () => {
    const early = jwt.sign({ sub: 'early-user', roles: [], jti: 'early-jti', nbf: Math.floor(Date.now() / 1000) + 600 }, config.secret!, {
      algorithm: 'HS256',
      issuer: config.issuer,
      audience: config.audience,
      expiresIn: 3600,
    });
    expect(await refusal(b.verifier, early)).toBe('not_yet_valid');
    expect(b.verifier.peek(early)).toBeUndefined();
  });

  it('makes a revocation on one replica visible on another, cached, replica within 1 s', async () => {
    const issued = await a.issuer.issue({ sub: 'test005' });
    await b.verifier.verify(issued.access_token);
    await a.verifier.verify(issued.access_token);
    expect(await a.issuer.revoke(issued.jti)).toBe(true);
    expect(await refusal(a.verifier, issued.access_token)).toBe('revoked');
    await waitFor(async () => (await refusal(b.verifier, issued.access_token)) === 'revoked', {
      timeoutMs: 1_000,
      description: 'replica b to refuse the revoked token',
    });
    expect(await a.issuer.revoke(issued.jti)).toBe(false);
  });

  it('refuses to issue for an invalid subject, role list or life', async () => {
    await expect(a.issuer.issue({ sub: 'bad user' })).rejects.toThrow(RangeError);
    await expect(a.issuer.issue({ sub: 'ok', roles: ['a,b'] })).rejects.toThrow(RangeError);
    await expect(a.issuer.issue({ sub: 'ok', expiresIn: 0 })).rejects.toThrow(RangeError);
  });
});

describe('TokenVerifier across a Redis restart', () => {
  const ns = testNamespace();
  let redis: LocalServer;
  let a: Awaited<ReturnType<typeof replica>>;
  let b: Awaited<ReturnType<typeof replica>>;

  beforeAll(async () => {
    redis = await startRedisServer({ appendOnly: true });
    a = await replica(redis.url, ns.redisKeyPrefix);
    b = await replica(redis.url, ns.redisKeyPrefix);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.dispose();
  });

  it('drops its cache while the revocation channel is down and resubscribes after the restart', async () => {
    const issued = await a.issuer.issue({ sub: 'restart001' });
    await b.verifier.verify(issued.access_token);
    expect(b.verifier.cacheSize).toBe(1);

    await redis.stop();
    await waitFor(() => !b.verifier.subscribed, { timeoutMs: 5_000, description: 'the subscription to be lost' });
    expect(b.verifier.cacheSize).toBe(0);

    await redis.start();
    await waitFor(() => b.verifier.subscribed && a.verifier.subscribed, { timeoutMs: 10_000, description: 'the subscription to come back' });
    await waitFor(async () => (await refusal(b.verifier, issued.access_token)) === 'accepted', { timeoutMs: 5_000, description: 'verification after the restart' });

    await a.issuer.revoke(issued.jti);
    await waitFor(async () => (await refusal(b.verifier, issued.access_token)) === 'revoked', {
      timeoutMs: 1_000,
      description: 'the revocation to reach replica b after the restart',
    });
  });
});

describe('TokensModule', () => {
  it('provides a verifier and an issuer from the jwt config key', async () => {
    const ns = testNamespace();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [() => ({ jwt: config, redis: { url: ns.redisUrl, keyPrefix: ns.redisKeyPrefix } })],
        }),
        RedisModule,
        TokensModule.forRoot(),
      ],
    }).compile();
    await moduleRef.init();
    try {
      const issuer = moduleRef.get(TokenIssuer);
      expect(issuer.canIssue).toBe(true);
      const issued = await issuer.issue({ sub: 'module001' });
      const verifier = moduleRef.get(TokenVerifier);
      expect(verifier.subscribed).toBe(true);
      expect((await verifier.verify(issued.access_token)).sub).toBe('module001');
    } finally {
      await moduleRef.close();
    }
  });
});
