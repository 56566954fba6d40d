import { type DynamicModule, type FactoryProvider, Global, Module, type ModuleMetadata } from '@nestjs/common';
import { TerminusModule, type HealthIndicatorFunction } from '@nestjs/terminus';
import { HealthController, READINESS_CHECKS } from './health.controller';
import { RedisHealthIndicator } from './redis.health';
import { ShutdownState } from './shutdown.state';

export interface HealthModuleOptions {
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  /** The checks `/health/ready` runs; each must bound its own wait. */
  readiness: (...deps: never[]) => HealthIndicatorFunction[];
}

/** `/health/live` and `/health/ready` (Terminus), with the app's own readiness checks. */
@Global()
@Module({})
export class HealthModule {
  static register(options: HealthModuleOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ errorLogStyle: 'json', gracefulShutdownTimeoutMs: 0 }), ...(options.imports ?? [])],
      controllers: [HealthController],
      providers: [
        ShutdownState,
        RedisHealthIndicator,
        { provide: READINESS_CHECKS, inject: options.inject ?? [], useFactory: options.readiness },
      ],
      exports: [ShutdownState, RedisHealthIndicator],
    };
  }
}
