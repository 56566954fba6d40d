import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { ShutdownState } from './shutdown.state';

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly shutdown: ShutdownState,
    @Inject(READINESS_CHECKS) private readonly checks: HealthIndicatorFunction[],
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process answers; checks nothing external' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: every dependency answers within its timeout' })
  @ApiResponse({ status: 503, description: 'A dependency is down, or the service is shutting down' })
  ready() {
    if (this.shutdown.draining) {
      throw new ServiceUnavailableException('shutting down');
    }
    return this.health.check(this.checks);
  }
}
