import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import { parse as parseCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type { Counter } from 'prom-client';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails, problemType, toProblem, urlPath } from '@app/errors';
import { InvalidTokenError, type InvalidTokenReason, MAX_TOKEN_LENGTH, TokenVerifier, type VerifiedToken } from '@app/tokens';
import { VERIFY_RESULTS_METRIC } from './auth.metrics';

/** The routes of the check, as Fastify names them (Envoy's ext-auth appends the original path). */
export const VERIFY_ROUTES: readonly string[] = ['/auth/verify', '/auth/verify/*'];

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const BEARER_SCHEME = /^Bearer\b/i;
const REALM = 'realm="downstream"';
const MISSING_CHALLENGE = `Bearer ${REALM}`;
/** Every answer: never sniffed, never cached (a verdict is about one request). */
const ANSWER_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' } as const;

/** The token of a request: `Authorization: Bearer …` first, else the `access_token` cookie. */
export function extractToken(authorization: string | undefined, cookieHeader: string | undefined): string | undefined {
  if (authorization !== undefined && BEARER_SCHEME.test(authorization)) {
    // A Bearer header that does not parse is a bad token, not a missing one.
    return BEARER.exec(authorization)?.[1] ?? authorization.slice(0, MAX_TOKEN_LENGTH + 1);
  }
  if (cookieHeader !== undefined && cookieHeader.includes('access_token')) {
    try {
      const value = parseCookie(cookieHeader).access_token;
      return value === undefined ? undefined : value;
    } catch {
      return '';
    }
  }
  return undefined;
}

function pathOf(url: string | undefined): string | undefined {
  // Query strings may carry secrets; keep the path only.
  return url === undefined ? undefined : urlPath(url).slice(0, 512);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * `/auth/verify`, the ingress `auth-url` target: it runs on every API call, so it answers from
 * the first `onRequest` hook (see `onModuleInit`), ahead of the middleware (pino-http and its
 * AsyncLocalStorage) and Nest's router (guards, interceptors, filters, RxJS), and builds its answers
 * without throwing: a cache hit — accepted or refused — involves no promise, no exception and no I/O.
 * Its answers go to the ingress (nginx `auth_request`, Envoy ext-auth), which reads the status and
 * the `X-User-*` headers and never renders them; they carry `nosniff` and `no-store` only, not the
 * ~700 bytes of browser policies (CSP, HSTS, frame options…) every other response carries, which cut
 * a small answer's throughput by about a third.
 *
 * It writes the same one "request completed" line per request as every other route (the request
 * id, method, path without query, status and time), with the ingress's `X-Original-URL` (path only)
 * and `X-Original-Method`, and the user and token id or the refusal reason. Never the token.
 */
@Injectable()
export class VerifyEndpoint implements OnModuleInit {
  /** The counter's child per result (a fixed set): `inc(labels)` would hash the labels each time. */
  private readonly counted = new Map<string, Counter.Internal>();

  constructor(
    private readonly verifier: TokenVerifier,
    @InjectMetric(VERIFY_RESULTS_METRIC) private readonly results: Counter<string>,
    @InjectPinoLogger('http') private readonly logger: PinoLogger,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  private count(result: 'ok' | InvalidTokenReason): void {
    let child = this.counted.get(result);
    if (!child) {
      child = this.results.labels({ result });
      this.counted.set(result, child);
    }
    child.inc();
  }

  /**
   * Answers the verify routes from the adapter's first `onRequest` hook, which Nest's Fastify
   * adapter runs before its middleware (`setOnRequestHook`); every other route goes on as usual.
   */
  onModuleInit(): void {
    this.adapterHost.httpAdapter?.setOnRequestHook((request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      if (VERIFY_ROUTES.includes(request.routeOptions.url ?? '')) {
        this.handle(request, reply);
        return;
      }
      done();
    });
  }

  /** Answers one verification (also called by VerifyController, were the hook not installed). */
  handle(request: FastifyRequest, reply: FastifyReply): void {
    const token = extractToken(header(request, 'authorization'), header(request, 'cookie'));
    if (token === undefined) {
      this.refuse(request, reply, 'missing');
      return;
    }
    const verdict = this.verifier.peek(token);
    if (verdict !== undefined) {
      if (verdict.ok) {
        this.accept(request, reply, verdict.token);
      } else {
        this.refuse(request, reply, verdict.reason);
      }
      return;
    }
    this.verifier.verify(token).then(
      (verified) => this.accept(request, reply, verified),
      (error: unknown) => {
        if (error instanceof InvalidTokenError) {
          this.refuse(request, reply, error.reason);
        } else {
          this.fail(request, reply, error);
        }
      },
    );
  }

  private accept(request: FastifyRequest, reply: FastifyReply, verified: VerifiedToken): void {
    this.count('ok');
    void reply
      .headers({
        'X-User-Id': verified.sub,
        'X-User-Roles': verified.roles.join(','),
        'X-Token-Id': verified.jti,
        ...ANSWER_HEADERS,
        'X-Request-Id': request.id,
        'Content-Type': 'application/json; charset=utf-8',
      })
      .send(JSON.stringify({ sub: verified.sub, roles: verified.roles, jti: verified.jti, exp: verified.exp }));
    this.log(request, reply, 200, { userId: verified.sub, tokenId: verified.jti });
  }

  private refuse(request: FastifyRequest, reply: FastifyReply, reason: InvalidTokenReason): void {
    this.count(reason);
    const missing = reason === 'missing';
    const problem: ProblemDetails = {
      type: problemType('unauthorized'),
      title: 'Unauthorized',
      status: 401,
      detail: missing
        ? 'a bearer token is required (Authorization: Bearer or the access_token cookie)'
        : `invalid token: ${reason}`,
      instance: pathOf(request.url),
      requestId: request.id,
    };
    void reply
      .code(401)
      .headers({
        'WWW-Authenticate': missing
          ? MISSING_CHALLENGE
          : `Bearer ${REALM}, error="invalid_token", error_description="${reason}"`,
        ...ANSWER_HEADERS,
        'X-Request-Id': request.id,
        'Content-Type': PROBLEM_CONTENT_TYPE,
      })
      .send(JSON.stringify(problem));
    this.log(request, reply, 401, { auth: reason });
  }

  /** Redis unavailable and the token not cached: 503, never a 401 that would log the user out. */
  private fail(request: FastifyRequest, reply: FastifyReply, error: unknown): void {
    const { problem } = toProblem(error, pathOf(request.url));
    problem.requestId = request.id;
    void reply
      .code(problem.status)
      .headers({ ...ANSWER_HEADERS, 'X-Request-Id': request.id, 'Content-Type': PROBLEM_CONTENT_TYPE })
      .send(JSON.stringify(problem));
    this.log(request, reply, problem.status, { error: error instanceof Error ? error.message : String(error) });
  }

  private log(request: FastifyRequest, reply: FastifyReply, statusCode: number, fields: Record<string, string>): void {
    const level = statusCode >= 500 ? 'error' : statusCode >= 400 ? 'warn' : 'info';
    if (!this.logger.logger.isLevelEnabled(level)) {
      return;
    }
    this.logger[level](
      {
        req: { id: request.id, method: request.method, url: request.url, headers: request.headers },
        res: reply.raw,
        responseTime: Math.round(reply.elapsedTime),
        originalUrl: pathOf(header(request, 'x-original-url')),
        originalMethod: header(request, 'x-original-method')?.slice(0, 16),
        ...fields,
      },
      'request completed',
    );
  }
}
