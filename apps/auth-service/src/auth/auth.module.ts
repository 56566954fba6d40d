import { Module } from '@nestjs/common';
import { AuthController } from './auth.controller';
import { AUTH_METRICS } from './auth.metrics';
import { AuthTokenService } from './auth-token.service';
import { ClientAuthGuard } from './client-auth.guard';
import { ClientAuthService } from './client-auth.service';
import { JwksController } from './jwks.controller';
import { VerifyController } from './verify.controller';

@Module({
  controllers: [AuthController, VerifyController, JwksController],
  providers: [AuthTokenService, ClientAuthService, ClientAuthGuard, ...AUTH_METRICS],
})
export class AuthModule {}
