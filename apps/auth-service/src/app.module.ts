import { type DynamicModule, Module } from '@nestjs/common';
import { RedisHealthIndicator } from '@app/health';
import { CoreModule } from '@app/http';
import { TokensModule } from '@app/tokens';
import { AuthModule } from './auth/auth.module';
import type { AuthConfig } from './config/auth.config';

@Module({})
export class AppModule {
  static register(config: AuthConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot({
          service: 'auth-service',
          config,
          readiness: {
            inject: [RedisHealthIndicator],
            readiness: (redis: RedisHealthIndicator) => [() => redis.check('redis', config.health.timeoutMs)],
          },
        }),
        TokensModule.forRoot(),
        AuthModule,
      ],
    };
  }
}
