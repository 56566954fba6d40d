/* Real tokens for the fault tests, minted without an auth-service process. */
import { RedisService } from '@app/redis';
import { TEST_SECRETS } from '@app/testing';
import { TokenIssuer, tokenConfigFromEnv } from '@app/tokens';

/** Mints real tokens (signed with the test secret, recorded in Redis) without an auth-service process. */
export interface TokenMinter {
  mint(sub: string, expiresIn?: number): Promise<string>;
  close(): Promise<void>;
}

export function tokenMinter(redisUrl: string, keyPrefix: string): TokenMinter {
  const redis = new RedisService({ url: redisUrl, keyPrefix });
  const issuer = new TokenIssuer(
    tokenConfigFromEnv({
      JWT_ALGORITHM: 'HS256',
      JWT_SECRET: TEST_SECRETS.jwtSecret,
      JWT_ISSUER: 'downstream-auth',
      JWT_AUDIENCE: 'downstream',
      JWT_CLOCK_SKEW_SECONDS: 5,
    }),
    redis,
  );
  return {
    mint: async (sub, expiresIn) => (await issuer.issue({ sub, expiresIn })).access_token,
    close: () => redis.onApplicationShutdown(),
  };
}
