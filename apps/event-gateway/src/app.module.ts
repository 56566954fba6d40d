import { type DynamicModule, Module } from '@nestjs/common';
import { RedisHealthIndicator } from '@app/health';
import { CoreModule } from '@app/http';
import { TokensModule } from '@app/tokens';
import { AdminUiModule } from './admin/admin-ui.module';
import { ClientPageModule } from './client/client-page.module';
import type { GatewayConfig } from './config/gateway.config';
import { DeliveryModule } from './delivery/delivery.module';
import { EventsModule } from './events/events.module';
import { GatewayMetricsModule } from './metrics/gateway-metrics.module';
import { RegistryModule } from './registry/registry.module';

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
        TokensModule.forRoot(),
        GatewayMetricsModule,
        AdminUiModule,
        RegistryModule,
        DeliveryModule,
        EventsModule,
        ClientPageModule,
      ],
    };
  }
}
