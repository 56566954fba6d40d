import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { CommonEnv, type CommonConfig, commonConfig, validateEnv } from '@app/config';

export class AuthEnv extends CommonEnv {
  @IsOptional()
  @IsInt({ message: 'must be a TCP port number' })
  @Min(1)
  @Max(65535)
  PORT: number = 3002;
}

export type AuthConfig = CommonConfig;

export function loadAuthConfig(env: NodeJS.ProcessEnv): AuthConfig {
  const valid = validateEnv(AuthEnv, env);
  return { ...commonConfig(valid, valid.PORT) };
}
