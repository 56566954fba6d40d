import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import { CLIENT_AUTH_FAILURES_METRIC } from './auth.metrics';
import { ClientAuthService, ClientUnauthorizedError, TooManyFailuresError } from './client-auth.service';

export const BASIC_CHALLENGE = 'Basic realm="downstream-auth", charset="UTF-8"';

/** Lets a request through only with valid HTTP Basic client credentials (AUTH_CLIENTS). */
@Injectable()
export class ClientAuthGuard implements CanActivate {
  constructor(
    private readonly clients: ClientAuthService,
    @InjectMetric(CLIENT_AUTH_FAILURES_METRIC) private readonly failures: Counter<string>,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { clientId?: string }>();
    const reply = http.getResponse<FastifyReply>();
    try {
      request.clientId = await this.clients.authenticate(request.headers.authorization, request.ip);
      return true;
    } catch (error) {
      if (error instanceof ClientUnauthorizedError) {
        void reply.header('WWW-Authenticate', BASIC_CHALLENGE);
        this.failures.inc({ result: 'unauthorized' });
      } else if (error instanceof TooManyFailuresError) {
        void reply.header('Retry-After', String(error.retryAfterSeconds));
        this.failures.inc({ result: 'rate_limited' });
      }
      throw error;
    }
  }
}
