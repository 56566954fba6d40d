import { Global, Module } from '@nestjs/common';
import { gatewayMetricProviders } from './gateway.metrics';

/** The gateway's own metrics, available to every feature module. */
@Global()
@Module({ providers: gatewayMetricProviders, exports: gatewayMetricProviders })
export class GatewayMetricsModule {}
