import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import { parse as parseCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { BufferedCounter, type BufferedCounterChild, HttpMetricsService } from '@app/metrics';
import type { Counter } from 'prom-client';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails, problemType, toProblem, urlPath } from '@app/errors';
import {
  InvalidTokenError,
  type InvalidTokenReason,
  MAX_TOKEN_LENGTH,
  TokenVerifier,
  type VerifiedToken,
} from '@app/tokens';
import { VERIFY_RESULTS_METRIC } from './auth.metrics';

/** The path the ingress calls, answered before Fastify routes the request (see `answerBeforeRouting`). */
const VERIFY_PATH = '/auth/verify';

/** The routes of the check, as Fastify names them (Envoy's ext-auth appends the original path). */
export const VERIFY_ROUTES: readonly string[] = [VERIFY_PATH, `${VERIFY_PATH}/*`];

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const BEARER_SCHEME = /^Bearer\b/i;
const REALM = 'realm="downstream"';
const MISSING_CHALLENGE = `Bearer ${REALM}`;

/** The token of a request: `Authorization: Bearer …` first, else the `access_token` cookie. */
export function extractToken(
  authorization: string | undefined,
  cookieHeader: string | undefined,
): string | undefined {
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

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Whether a request line's target is `/auth/verify` itself, with or without a query string. */
function isVerifyPath(url: string | undefined): boolean {
  return url !== undefined && urlPath(url) === VERIFY_PATH;
}

/**
 * One answer, before it is written: status, headers (name, value, …; all but the request id, which
 * `send` appends), body and log fields. An acceptance is built once per verified token and reused.
 */
interface Answer {
  status: number;
  headers: string[];
  body: string;
  /** The level of its "request completed" line. */
  level: 'debug' | 'warn' | 'error';
  fields: Record<string, string | boolean>;
}

/** An answer with the headers every one of them carries after its own. */
function buildAnswer(
  status: number,
  own: string[],
  contentType: string,
  body: string,
  level: Answer['level'],
  fields: Answer['fields'],
): Answer {
  const headers = own.concat(
    'X-Content-Type-Options',
    'nosniff',
    'Cache-Control',
    'no-store',
    'Content-Type',
    contentType,
    'Content-Length',
    String(Buffer.byteLength(body)),
  );
  return { status, headers, body, level, fields };
}

/** What each answer needs from the request it answers, whichever path it came by. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  id: string;
  /** `performance.now()` when the request reached this endpoint. */
  started: number;
  /**
   * The server, on the before-routing path only. There the answer observes the HTTP metrics itself
   * (Fastify's hook does otherwise) and, once the server has stopped listening (a drain), ends its
   * keep-alive connection with `Connection: close`, as Fastify's answers do.
   */
  server?: Server;
}

/**
 * `/auth/verify`, the ingress `auth-url` target: it runs on every API call.
 *
 * - `/auth/verify` itself (the path ingress-nginx and nginx `auth_request` call) is answered from
 *   the HTTP server's `request` event, before Fastify sees the request (`answerBeforeRouting`): no
 *   Fastify request and reply objects, router, hooks or response listeners. That halves what Fastify
 *   adds to a small answer; the answer observes the HTTP metrics itself.
 * - Paths below it (`/auth/verify/todos/7`: Envoy's ext-auth appends the original path) go through
 *   Fastify's router and are answered from the adapter's first `onRequest` hook, ahead of the
 *   middleware (pino-http and its AsyncLocalStorage) and Nest's pipeline (guards, interceptors,
 *   filters, RxJS).
 *
 * Both build the same answers the same way, without throwing: a cache hit — accepted or refused —
 * involves no promise, no exception and no I/O. The answers go to the ingress (nginx
 * `auth_request`, Envoy ext-auth), which reads the status and the `X-User-*` headers and never
 * renders them; they carry `nosniff` and `no-store` only, not the ~700 bytes of browser policies
 * (CSP, HSTS, frame options…) every other response carries, which cut a small answer's throughput
 * by about a third.
 *
 * Each answer writes the same one "request completed" line as every other route (the request id,
 * method, path without query, status and time), with the ingress's `X-Original-URL` (path only) and
 * `X-Original-Method`, and the user and token id or the refusal reason. Never the token. Refusals
 * log at `warn` (a repeat of a cached refusal at `debug`, marked `repeated`) and failures at
 * `error`; acceptances at `debug`, as forward-auth servers commonly
 * do: one runs before every API call, and the service behind the ingress logs that call with the
 * `X-User-Id` the ingress passed it. At `info` the accepted line was a large share of a
 * verification's CPU (measured in bench/analysis.md).
 */
@Injectable()
export class VerifyEndpoint implements OnModuleInit, OnModuleDestroy {
  /** The result counter, counted in plain numbers and flushed before each scrape. */
  private readonly buffered: BufferedCounter<string>;
  /** Its child per result (a fixed set). */
  private readonly counted = new Map<string, BufferedCounterChild>();
  /**
   * The acceptance of each verified token, built once: its headers and JSON body depend on the
   * token only. Keyed by the cache's own object, so it lives as long as the cache entry does.
   */
  private readonly accepted = new WeakMap<VerifiedToken, Answer>();

  constructor(
    private readonly verifier: TokenVerifier,
    @InjectMetric(VERIFY_RESULTS_METRIC) private readonly results: Counter<string>,
    @InjectPinoLogger('http') private readonly logger: PinoLogger,
    private readonly adapterHost: HttpAdapterHost,
    private readonly httpMetrics: HttpMetricsService,
  ) {
    this.buffered = new BufferedCounter(results);
  }

  private count(result: 'ok' | InvalidTokenReason): void {
    let child = this.counted.get(result);
    if (!child) {
      child = this.buffered.labels({ result });
      this.counted.set(result, child);
    }
    child.inc();
  }

  onModuleDestroy(): void {
    this.buffered.close();
  }

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) {
      return;
    }
    // Nest's Fastify adapter runs this hook before its middleware (`setOnRequestHook`).
    adapter.setOnRequestHook((request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      if (VERIFY_ROUTES.includes(request.routeOptions.url ?? '')) {
        this.handleRoute(request, reply);
        return;
      }
      done();
    });
    this.answerBeforeRouting(adapter.getHttpServer() as Server | undefined);
  }

  /**
   * Takes `/auth/verify` requests off the server's `request` event ahead of Fastify, the way
   * engine.io takes `/socket.io/` requests: Fastify's listener is wrapped, and called for every other
   * request. Should the server not have exactly Fastify's listener, nothing changes (the hook
   * answers).
   */
  private answerBeforeRouting(server: Server | undefined): void {
    const listeners = server?.listeners('request') ?? [];
    if (!server || listeners.length !== 1) {
      return;
    }
    const routed = listeners[0] as (req: IncomingMessage, res: ServerResponse) => void;
    server.removeListener('request', routed);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (!isVerifyPath(req.url)) {
        routed.call(server, req, res);
        return;
      }
      this.handle({
        req,
        res,
        // As Fastify assigns it (requestIdHeader, genReqId): the caller's X-Request-Id, else a UUID.
        id: first(req.headers['x-request-id']) || randomUUID(),
        started: performance.now(),
        server,
      });
    });
  }

  /** Answers a verify route that went through Fastify's router (the hook, or VerifyController). */
  handleRoute(request: FastifyRequest, reply: FastifyReply): void {
    // Written on the raw response; Fastify's onResponse hook still observes the HTTP metrics.
    reply.hijack();
    this.handle({ req: request.raw, res: reply.raw, id: request.id, started: performance.now() });
  }

  private handle(exchange: Exchange): void {
    try {
      const token = extractToken(
        first(exchange.req.headers.authorization),
        first(exchange.req.headers.cookie),
      );
      if (token === undefined) {
        this.send(exchange, this.refusal(exchange, 'missing'));
        return;
      }
      const verdict = this.verifier.peek(token);
      if (verdict !== undefined) {
        this.send(
          exchange,
          verdict.ok ? this.acceptance(verdict.token) : this.refusal(exchange, verdict.reason, true),
        );
        return;
      }
      this.verifier.verify(token).then(
        (verified) => this.send(exchange, this.acceptance(verified)),
        (error: unknown) =>
          this.send(
            exchange,
            error instanceof InvalidTokenError
              ? this.refusal(exchange, error.reason)
              : this.failure(exchange, error),
          ),
      );
    } catch (error) {
      // Nothing above should throw; if it does, the answer is a 500, never a crashed process.
      this.send(exchange, this.failure(exchange, error));
    }
  }

  private acceptance(verified: VerifiedToken): Answer {
    this.count('ok');
    let accepted = this.accepted.get(verified);
    if (!accepted) {
      accepted = buildAnswer(
        200,
        ['X-User-Id', verified.sub, 'X-User-Roles', verified.roles.join(','), 'X-Token-Id', verified.jti],
        'application/json; charset=utf-8',
        JSON.stringify({ sub: verified.sub, roles: verified.roles, jti: verified.jti, exp: verified.exp }),
        'debug',
        { userId: verified.sub, tokenId: verified.jti },
      );
      this.accepted.set(verified, accepted);
    }
    return accepted;
  }

  /**
   * A 401. `repeated`: the refusal came from the cache of refusals, so this instance refused the same
   * token before and logged it at `warn`; a repeat logs at `debug` (a client retrying a dead token
   * would otherwise write a warning per attempt). `auth_verify_total` counts every one.
   */
  private refusal(exchange: Exchange, reason: InvalidTokenReason, repeated = false): Answer {
    this.count(reason);
    const missing = reason === 'missing';
    const problem: ProblemDetails = {
      type: problemType('unauthorized'),
      title: 'Unauthorized',
      status: 401,
      detail: missing
        ? 'a bearer token is required (Authorization: Bearer or the access_token cookie)'
        : `invalid token: ${reason}`,
      instance: pathOf(exchange.req.url),
      requestId: exchange.id,
    };
    return buildAnswer(
      401,
      [
        'WWW-Authenticate',
        missing ? MISSING_CHALLENGE : `Bearer ${REALM}, error="invalid_token", error_description="${reason}"`,
      ],
      PROBLEM_CONTENT_TYPE,
      JSON.stringify(problem),
      repeated ? 'debug' : 'warn',
      repeated ? { auth: reason, repeated } : { auth: reason },
    );
  }

  /** Redis unavailable and the token not cached: 503, never a 401 that would log the user out. */
  private failure(exchange: Exchange, error: unknown): Answer {
    const { problem } = toProblem(error, pathOf(exchange.req.url));
    problem.requestId = exchange.id;
    return buildAnswer(problem.status, [], PROBLEM_CONTENT_TYPE, JSON.stringify(problem), 'error', {
      error: error instanceof Error ? error.message : String(error),
    });
  }

  private send(exchange: Exchange, answer: Answer): void {
    const { req, res } = exchange;
    if (res.headersSent) {
      return;
    }
    const headers = answer.headers.concat('X-Request-Id', exchange.id);
    if (exchange.server?.listening === false) {
      headers.push('Connection', 'close');
    }
    res.writeHead(answer.status, headers);
    res.end(answer.body);
    const elapsed = performance.now() - exchange.started;
    if (exchange.server) {
      this.httpMetrics.observe(req.method ?? 'GET', VERIFY_PATH, answer.status, elapsed / 1000);
    }
    this.log(req, exchange.id, res, answer, elapsed);
  }

  private log(req: IncomingMessage, id: string, res: ServerResponse, answer: Answer, elapsed: number): void {
    const { level } = answer;
    if (!this.logger.logger.isLevelEnabled(level)) {
      return;
    }
    this.logger[level](
      {
        req: { id, method: req.method, url: req.url, headers: req.headers },
        res,
        responseTime: Math.round(elapsed),
        originalUrl: pathOf(first(req.headers['x-original-url'])),
        originalMethod: first(req.headers['x-original-method'])?.slice(0, 16),
        ...answer.fields,
      },
      'request completed',
    );
  }
}
