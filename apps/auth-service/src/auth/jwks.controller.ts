import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { TokenVerifier } from '@app/tokens';
import { JwksDto } from './dto/verify-response.dto';

@ApiTags('auth')
@Controller('.well-known')
export class JwksController {
  constructor(private readonly verifier: TokenVerifier) {}

  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({
    summary: 'Public signing keys (JWK set)',
    description: 'With JWT_ALGORITHM ES256 or RS256, the public key that verifies tokens, so verifiers need no secret. Empty for HS256.',
  })
  @ApiResponse({ status: 200, type: JwksDto })
  jwks(): JwksDto {
    return this.verifier.keys.jwks();
  }
}
