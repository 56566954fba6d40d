import { type DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { RedisService } from '@app/redis';
import type { TokenConfig } from './token.config';
import { TokenIssuer } from './token-issuer';
import { TokenVerifier } from './token-verifier';

/**
 * Provides TokenVerifier and TokenIssuer from the app config key `jwt` (a TokenConfig).
 * TokenIssuer is always provided; on a verifier without a signing key `canIssue` is false and
 * `issue()` throws.
 */
@Global()
@Module({})
export class TokensModule {
  static forRoot(): DynamicModule {
    return {
      module: TokensModule,
      global: true,
      providers: [
        {
          provide: TokenVerifier,
          inject: [ConfigService, RedisService],
          useFactory: (config: ConfigService<{ jwt: TokenConfig }, true>, redis: RedisService) =>
            new TokenVerifier(config.getOrThrow('jwt', { infer: true }), redis),
        },
        {
          provide: TokenIssuer,
          inject: [ConfigService, RedisService, TokenVerifier],
          useFactory: (config: ConfigService<{ jwt: TokenConfig }, true>, redis: RedisService, verifier: TokenVerifier) =>
            new TokenIssuer(config.getOrThrow('jwt', { infer: true }), redis, verifier),
        },
      ],
      exports: [TokenVerifier, TokenIssuer],
    };
  }
}
