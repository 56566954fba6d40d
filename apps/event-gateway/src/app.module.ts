import { type DynamicModule, Module } from '@nestjs/common';
import { RedisHealthIndicator } from '@app/health';
import { CoreModule } from '@app/http';
import type { GatewayConfig } from './config/gateway.config';

@Module({})
export class AppModule {
  static register(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot({
          service: 'event-gateway',
          config,
          readiness: {
            inject: [RedisHealthIndicator],
            readiness: (redis: RedisHealthIndicator) => [() => redis.check('redis', config.health.timeoutMs)],
          },
        }),
      ],
    };
  }
}
