import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import type { CommonConfig } from '@app/config';
import { createValidationPipe, ProblemDetailsFilter } from '@app/errors';
import { HealthModule, type HealthModuleOptions } from '@app/health';
import { LoggingModule } from '@app/logging';
import { MetricsModule } from '@app/metrics';
import { RedisModule } from '@app/redis';

export interface CoreModuleOptions<C extends CommonConfig> {
  service: string;
  config: C;
  readiness: HealthModuleOptions;
}

/**
 * What every service has: validated config, JSON logs, problem+json errors, the validation pipe,
 * health, metrics and Redis.
 */
@Module({})
export class CoreModule {
  static forRoot<C extends CommonConfig>(options: CoreModuleOptions<C>): DynamicModule {
    return {
      module: CoreModule,
      global: true,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => options.config] }),
        LoggingModule.register(options.service),
        MetricsModule.register(options.service),
        RedisModule,
        HealthModule.register(options.readiness),
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
      exports: [ConfigModule, RedisModule, MetricsModule, HealthModule],
    };
  }
}
