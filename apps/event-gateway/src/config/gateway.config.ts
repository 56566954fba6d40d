import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { CommonEnv, type CommonConfig, commonConfig, validateEnv } from '@app/config';

export class GatewayEnv extends CommonEnv {
  @IsOptional()
  @IsInt({ message: 'must be a TCP port number' })
  @Min(1)
  @Max(65535)
  PORT: number = 3001;
}

export type GatewayConfig = CommonConfig;

export function loadGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const valid = validateEnv(GatewayEnv, env);
  return { ...commonConfig(valid, valid.PORT) };
}
