import { All, Controller, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCookieAuth,
  ApiExtraModels,
  ApiHeader,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT, ProblemDto } from '@app/errors';
import { VerifyResponseDto } from './dto/verify-response.dto';
import { VerifyEndpoint } from './verify.endpoint';

/**
 * The ingress `auth-url` target, as the API documents it. VerifyEndpoint answers these routes before
 * Nest's pipeline would reach this handler: `/auth/verify` from the HTTP server's `request` event,
 * paths below it from the adapter's first request hook. The route stays here so that it is in the
 * router (the hook finds it by its route) and in Swagger, and answered the same way should both be
 * bypassed.
 */
@ApiExtraModels(ProblemDto)
@ApiTags('auth')
@Controller('auth')
export class VerifyController {
  constructor(private readonly endpoint: VerifyEndpoint) {}

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
  @ApiHeader({
    name: 'X-Original-URL',
    required: false,
    description: 'Sent by ingress-nginx: the URL of the request being authorized (logged without its query).',
  })
  @ApiHeader({
    name: 'X-Original-Method',
    required: false,
    description: 'Sent by ingress-nginx: its method (logged).',
  })
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
    description:
      'Missing, malformed, forged, expired, not yet valid, foreign or revoked token. `WWW-Authenticate: Bearer` (with `error="invalid_token"` when a token was given).',
    content: PROBLEM_CONTENT,
  })
  @ApiResponse({
    status: 503,
    description: 'Redis is unavailable and the token is not in the verification cache.',
    content: PROBLEM_CONTENT,
  })
  verify(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.endpoint.handleRoute(request, reply);
  }
}
