import { Body, Controller, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import { ApiBasicAuth, ApiExtraModels, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthTokenService } from './auth-token.service';
import { ClientAuthGuard } from './client-auth.guard';
import { IssueTokenDto, TokenResponseDto } from './dto/issue-token.dto';
import { PROBLEM_CONTENT, ProblemDto } from '@app/errors';
import { RevokeResponseDto, RevokeTokenDto } from './dto/revoke-token.dto';

const CLIENT_AUTH_ERRORS = [
  { status: 401, description: 'Missing or malformed HTTP Basic header, unknown client or wrong secret (`WWW-Authenticate: Basic`).', content: PROBLEM_CONTENT },
  {
    status: 429,
    description: 'Too many failed client authentications from this client id and IP address (`Retry-After` in seconds).',
    content: PROBLEM_CONTENT,
  },
  { status: 503, description: 'Redis is unavailable.', content: PROBLEM_CONTENT },
];

@ApiExtraModels(ProblemDto)
@ApiTags('auth')
@ApiBasicAuth()
@Controller('auth')
@UseGuards(ClientAuthGuard)
export class AuthController {
  constructor(private readonly tokens: AuthTokenService) {}

  @Post('token')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({
    summary: 'Issue an access token',
    description:
      'HTTP Basic client authentication with a client of AUTH_CLIENTS. Returns a signed JWT (`sub`, `roles`, `jti`, `iat`, `exp`, `iss`, `aud`) whose data is kept in Redis for its life.',
  })
  @ApiBody({ type: IssueTokenDto })
  @ApiResponse({ status: 201, description: 'The token.', type: TokenResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid body (sub, roles, expires_in above JWT_MAX_EXPIRES_IN).', content: PROBLEM_CONTENT })
  @ApiResponse({ status: 415, description: 'The body is not JSON.', content: PROBLEM_CONTENT })
  @ApiResponse(CLIENT_AUTH_ERRORS[0])
  @ApiResponse(CLIENT_AUTH_ERRORS[1])
  @ApiResponse(CLIENT_AUTH_ERRORS[2])
  issue(@Body() body: IssueTokenDto): Promise<TokenResponseDto> {
    return this.tokens.issue(body);
  }

  @Post('revoke')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Revoke a token',
    description:
      'By `token` or `jti`. From then on `/auth/verify` and the event-gateway handshake reject it on every replica within 1 s. Revoking an expired or already revoked token answers 200 with `revoked: false`.',
  })
  @ApiBody({ type: RevokeTokenDto })
  @ApiResponse({ status: 200, description: 'Revoked.', type: RevokeResponseDto })
  @ApiResponse({ status: 400, description: 'Neither token nor jti, a malformed jti, or a token this service did not sign.', content: PROBLEM_CONTENT })
  @ApiResponse(CLIENT_AUTH_ERRORS[0])
  @ApiResponse(CLIENT_AUTH_ERRORS[1])
  @ApiResponse(CLIENT_AUTH_ERRORS[2])
  revoke(@Body() body: RevokeTokenDto): Promise<RevokeResponseDto> {
    return this.tokens.revoke(body);
  }
}
