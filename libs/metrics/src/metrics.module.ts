import { type DynamicModule, Global, Module } from '@nestjs/common';
import { PrometheusModule, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import { flushBuffered } from './buffered-metrics';
import { HTTP_DURATION_METRIC, HttpMetricsService } from './http-metrics.service';

/** Prometheus `/metrics` with default process metrics and HTTP latency; apps add their own metrics. */
@Global()
@Module({})
export class MetricsModule {
  static register(service: string): DynamicModule {
    return {
      module: MetricsModule,
      imports: [
        PrometheusModule.register({
          path: '/metrics',
          defaultMetrics: { enabled: true },
          defaultLabels: { service },
        }),
      ],
      providers: [
        makeHistogramProvider({
          name: HTTP_DURATION_METRIC,
          help: 'HTTP request duration in seconds, by method, route pattern and status',
          labelNames: ['method', 'route', 'status'],
          buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
          // HttpMetricsService buffers its observations: they are flushed before each scrape.
          collect: flushBuffered,
        }),
        HttpMetricsService,
      ],
      exports: [PrometheusModule, HttpMetricsService],
    };
  }
}
