import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { CommonConfig } from '@app/config';
import { RedisService } from './redis.service';

/** One RedisService per application, configured from `redis.url` and `redis.keyPrefix`. */
@Global()
@Module({
  providers: [
    {
      provide: RedisService,
      inject: [ConfigService],
      useFactory: (config: ConfigService<CommonConfig, true>) =>
        new RedisService(config.getOrThrow('redis', { infer: true })),
    },
  ],
  exports: [RedisService],
})
export class RedisModule {}
