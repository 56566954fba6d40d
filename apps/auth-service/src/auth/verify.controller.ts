import { All, Controller, HttpStatus, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiCookieAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { parse as parseCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '@app/errors';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { InvalidTokenError, MAX_TOKEN_LENGTH, TokenVerifier } from '@app/tokens';
import { VERIFY_RESULTS_METRIC } from './auth.metrics';
import { PROBLEM_CONTENT, ProblemDto } from '@app/errors';
import { VerifyResponseDto } from './dto/verify-response.dto';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const REALM = 'realm="downstream"';

class InvalidBearerError extends DomainError {
  constructor(detail: string) {
    super('unauthorized', HttpStatus.UNAUTHORIZED, 'Unauthorized', detail);
  }
}

/** The token of a request: `Authorization: Bearer …` first, else the `access_token` cookie. */
export function extractToken(authorization: string | undefined, cookieHeader: string | undefined): string | undefined {
  if (authorization !== undefined && /^Bearer\b/i.test(authorization)) {
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

interface BindableLogger {
  setBindings?: (bindings: Record<string, unknown>) => void;
}

/**
 * Adds fields to the one "request completed" line pino-http writes for this request, instead of a
 * second line per call on this hot path. pino-http keeps its response logger in `res.allLogs`
 * (`res.log` is Fastify's). Never throws: logging must not fail a verification.
 */
function logFields(reply: FastifyReply, fields: Record<string, string | undefined>): void {
  const logs = (reply.raw as { allLogs?: BindableLogger[] }).allLogs;
  const logger = Array.isArray(logs) ? logs[logs.length - 1] : undefined;
  if (logger && typeof logger.setBindings === 'function') {
    logger.setBindings(fields);
  }
}

function pathOf(url: string | undefined): string | undefined {
  if (url === undefined) {
    return undefined;
  }
  // Query strings may carry secrets; keep the path only.
  return url.split('?')[0].slice(0, 512);
}

/**
 * The ingress `auth-url` target. On every API call: kept free of validation pipes and DTOs; the
 * TokenVerifier's cache makes the common case a map lookup.
 */
@ApiExtraModels(ProblemDto)
@ApiTags('auth')
@Controller('auth')
export class VerifyController {
  constructor(
    private readonly verifier: TokenVerifier,
    @InjectMetric(VERIFY_RESULTS_METRIC) private readonly results: Counter<string>,
  ) {}

  // Envoy Gateway's ext-auth appends the original path: /auth/verify/todos/7 means the same check.
  @All(['verify', 'verify/*'])
  @ApiOperation({
    summary: 'Verify a token (ingress auth-url), any method',
    description:
      'Token from `Authorization: Bearer …` or the `access_token` cookie. Checks signature, algorithm, exp/nbf, iss, aud and the Redis record (revocation). ' +
      'Answers 200 with `X-User-Id`, `X-User-Roles` (comma-separated) and `X-Token-Id`; otherwise 401 with `WWW-Authenticate: Bearer`.',
  })
  @ApiBearerAuth()
  @ApiCookieAuth('access_token')
  @ApiHeader({ name: 'X-Original-URL', required: false, description: 'Sent by ingress-nginx: the URL of the request being authorized (logged).' })
  @ApiHeader({ name: 'X-Original-Method', required: false, description: 'Sent by ingress-nginx: its method (logged).' })
  @ApiResponse({
    status: 200,
    description: 'Valid token.',
    type: VerifyResponseDto,
    headers: {
      'X-User-Id': { description: 'The token subject (user id).', schema: { type: 'string' } },
      'X-User-Roles': { description: 'Comma-separated roles (empty when none).', schema: { type: 'string' } },
      'X-Token-Id': { description: 'The token id (jti).', schema: { type: 'string' } },
    },
  })
  @ApiResponse({
    status: 401,
    description: 'Missing, malformed, forged, expired, not yet valid, foreign or revoked token. `WWW-Authenticate: Bearer` (with `error="invalid_token"` when a token was given).',
    content: PROBLEM_CONTENT,
  })
  @ApiResponse({ status: 503, description: 'Redis is unavailable and the token is not in the verification cache.', content: PROBLEM_CONTENT })
  async verify(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<VerifyResponseDto> {
    const headers = request.headers;
    const originalUrl = pathOf(headers['x-original-url'] as string | undefined);
    const originalMethod = (headers['x-original-method'] as string | undefined)?.slice(0, 16);
    const token = extractToken(headers.authorization, headers.cookie);
    if (token === undefined) {
      logFields(reply, { originalUrl, originalMethod, auth: 'missing' });
      this.results.inc({ result: 'missing' });
      void reply.header('WWW-Authenticate', `Bearer ${REALM}`);
      throw new InvalidBearerError('a bearer token is required (Authorization: Bearer or the access_token cookie)');
    }
    try {
      const verified = await this.verifier.verify(token);
      logFields(reply, { originalUrl, originalMethod, userId: verified.sub, tokenId: verified.jti });
      this.results.inc({ result: 'ok' });
      void reply.headers({ 'X-User-Id': verified.sub, 'X-User-Roles': verified.roles.join(','), 'X-Token-Id': verified.jti, 'Cache-Control': 'no-store' });
      return { sub: verified.sub, roles: verified.roles, jti: verified.jti, exp: verified.exp };
    } catch (error) {
      if (error instanceof InvalidTokenError) {
        logFields(reply, { originalUrl, originalMethod, auth: error.reason });
        this.results.inc({ result: error.reason });
        void reply.header('WWW-Authenticate', `Bearer ${REALM}, error="invalid_token", error_description="${error.reason}"`);
        throw new InvalidBearerError(`invalid token: ${error.reason}`);
      }
      throw error;
    }
  }
}
