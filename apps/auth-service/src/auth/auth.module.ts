import { Module } from '@nestjs/common';
import { AuthController } from './auth.controller';
import { AUTH_METRICS } from './auth.metrics';
import { AuthTokenService } from './auth-token.service';
import { ClientAuthGuard } from './client-auth.guard';
import { ClientAuthService } from './client-auth.service';
import { JwksController } from './jwks.controller';
import { VerifyController } from './verify.controller';
import { VerifyEndpoint } from './verify.endpoint';

@Module({
  controllers: [AuthController, VerifyController, JwksController],
  providers: [AuthTokenService, ClientAuthService, ClientAuthGuard, VerifyEndpoint, ...AUTH_METRICS],
  exports: [VerifyEndpoint],
})
export class AuthModule {}
