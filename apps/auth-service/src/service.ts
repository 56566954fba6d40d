import type { ServiceDefinition } from '@app/http';
import { AppModule } from './app.module';
import { type AuthConfig, loadAuthConfig } from './config/auth.config';

export const authService: ServiceDefinition<AuthConfig> = {
  name: 'auth-service',
  title: 'Downstream auth-service',
  description: 'Issues JWTs, keeps token data in Redis and answers ingress auth-url checks (`/auth/verify`).',
  loadConfig: loadAuthConfig,
  module: (config) => AppModule.register(config),
};
