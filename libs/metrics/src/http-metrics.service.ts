import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { FastifyInstance } from 'fastify';
import type { Histogram } from 'prom-client';
import { BufferedHistogram } from './buffered-metrics';

export const HTTP_DURATION_METRIC = 'http_server_request_duration_seconds';

type DurationLabel = 'method' | 'route' | 'status';

/** More label combinations than any service has routes × methods × statuses: observed unbuffered. */
const MAX_BUFFERED_SERIES = 1_000;

/**
 * Observes every HTTP response (including those Fastify answers before a handler runs). The
 * observations are buffered (`BufferedHistogram`) and reach prom-client in batches and before each
 * scrape.
 */
@Injectable()
export class HttpMetricsService implements OnModuleInit, OnModuleDestroy {
  private readonly buffered: BufferedHistogram<DurationLabel>;
  /**
   * The buffered child per route, status and method. Nested maps, looked up with the strings and
   * number the request already has: a joined key string cost ~0.2 µs per request to build and hash.
   */
  private readonly series = new Map<string, Map<number, Map<string, number>>>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @InjectMetric(HTTP_DURATION_METRIC) private readonly duration: Histogram<DurationLabel>,
  ) {
    this.buffered = new BufferedHistogram(duration, MAX_BUFFERED_SERIES);
  }

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

  onModuleDestroy(): void {
    this.buffered.close();
  }

  /** Observes one answer; also called by endpoints that answer before Fastify routes a request. */
  observe(method: string, route: string, status: number, seconds: number): void {
    let byStatus = this.series.get(route);
    if (byStatus === undefined) {
      byStatus = new Map();
      this.series.set(route, byStatus);
    }
    let byMethod = byStatus.get(status);
    if (byMethod === undefined) {
      byMethod = new Map();
      byStatus.set(status, byMethod);
    }
    let child = byMethod.get(method);
    if (child === undefined) {
      const labels = { method, route, status: String(status) };
      child = this.buffered.child(labels);
      if (child === undefined) {
        this.duration.observe(labels, seconds);
        return;
      }
      byMethod.set(method, child);
    }
    this.buffered.observe(child, seconds);
  }
}
