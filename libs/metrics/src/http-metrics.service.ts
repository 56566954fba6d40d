import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { FastifyInstance } from 'fastify';
import type { Histogram } from 'prom-client';

export const HTTP_DURATION_METRIC = 'http_server_request_duration_seconds';

/** More label combinations than any service has routes × methods × statuses: observed uncached. */
const MAX_CACHED_SERIES = 1_000;

/** Observes every HTTP response (including those Fastify answers before a handler runs). */
@Injectable()
export class HttpMetricsService implements OnModuleInit {
  /**
   * The histogram's child per method, route and status: `observe(labels, value)` builds a label
   * object and a closure per call, a child does not. prom-client 15 still validates and hashes the
   * labels on each observation.
   */
  private readonly series = new Map<string, Histogram.Internal<'method' | 'route' | 'status'>>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @InjectMetric(HTTP_DURATION_METRIC) private readonly duration: Histogram<'method' | 'route' | 'status'>,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || typeof fastify.addHook !== 'function') {
      return;
    }
    fastify.addHook('onResponse', (request, reply, done) => {
      this.observe(
        request.method,
        request.routeOptions?.url ?? 'unmatched',
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
      done();
    });
  }

  /** Observes one answer; also called by endpoints that answer before Fastify routes a request. */
  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let series = this.series.get(key);
    if (!series) {
      const labels = { method, route, status: String(status) };
      if (this.series.size >= MAX_CACHED_SERIES) {
        this.duration.observe(labels, seconds);
        return;
      }
      series = this.duration.labels(labels);
      this.series.set(key, series);
    }
    series.observe(seconds);
  }
}
