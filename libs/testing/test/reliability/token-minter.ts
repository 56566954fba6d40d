/* Real tokens for the fault and hostile-input tests, minted without an auth-service process. */
import { RedisService } from '@app/redis';
import { TEST_SECRETS } from '@app/testing';
import { signJwt, TokenIssuer, TokenKeys, tokenConfigFromEnv } from '@app/tokens';

const TOKEN_ENV = {
  JWT_ALGORITHM: 'HS256',
  JWT_SECRET: TEST_SECRETS.jwtSecret,
  JWT_ISSUER: 'downstream-auth',
  JWT_AUDIENCE: 'downstream',
  JWT_CLOCK_SKEW_SECONDS: 5,
} as const;

/** Mints real tokens (signed with the test secret, recorded in Redis), and the bad kinds a gateway must refuse. */
export interface TokenMinter {
  mint(sub: string, expiresIn?: number): Promise<string>;
  /** A valid token, then revoked (its Redis record deleted and the revocation announced). */
  revoked(sub: string): Promise<string>;
  /** Correctly signed, recorded, but expired an hour ago. */
  expired(sub: string): string;
  /** Signed with a different secret. */
  forged(sub: string): string;
  close(): Promise<void>;
}

export function tokenMinter(redisUrl: string, keyPrefix: string): TokenMinter {
  const redis = new RedisService({ url: redisUrl, keyPrefix });
  const config = tokenConfigFromEnv(TOKEN_ENV);
  const issuer = new TokenIssuer(config, redis);
  const forgedKeys = new TokenKeys(
    tokenConfigFromEnv({ ...TOKEN_ENV, JWT_SECRET: `not-${TEST_SECRETS.jwtSecret}` }),
  );
  const hourAgo = () => Math.floor(Date.now() / 1000) - 3_600;
  return {
    mint: async (sub, expiresIn) => (await issuer.issue({ sub, expiresIn })).access_token,
    revoked: async (sub) => {
      const issued = await issuer.issue({ sub });
      await issuer.revoke(issued.jti);
      return issued.access_token;
    },
    expired: (sub) =>
      signJwt({ sub, roles: [], jti: `expired-${sub}`, expiresIn: 60, now: hourAgo() }, issuer.keys).token,
    forged: (sub) => signJwt({ sub, roles: [], jti: `forged-${sub}`, expiresIn: 3_600 }, forgedKeys).token,
    close: () => redis.onApplicationShutdown(),
  };
}
