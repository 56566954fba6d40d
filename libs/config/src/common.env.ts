import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Variables every service reads. Each app extends this class with its own. */
export class CommonEnv {
  @IsOptional()
  @IsIn(['development', 'production', 'test'], { message: 'must be one of development, production, test' })
  NODE_ENV: 'development' | 'production' | 'test' = 'production';

  @IsOptional()
  @IsString()
  HOST: string = '0.0.0.0';

  @IsOptional()
  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL: string = 'redis://127.0.0.1:6379';

  /** Prepended to every Redis key and channel; lets several stacks (or test files) share one Redis. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9:_.-]{0,64}$/, { message: 'must be up to 64 characters of [A-Za-z0-9:_.-]' })
  REDIS_KEY_PREFIX: string = '';

  /** Upper bound for a readiness check of one dependency. */
  @IsOptional()
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(50)
  @Max(60_000)
  HEALTH_TIMEOUT_MS: number = 1_000;
}

export interface CommonConfig {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  logLevel: LogLevel;
  redis: { url: string; keyPrefix: string };
  health: { timeoutMs: number };
}

export function commonConfig(env: CommonEnv, port: number): CommonConfig {
  return {
    env: env.NODE_ENV,
    host: env.HOST,
    port,
    logLevel: env.LOG_LEVEL,
    redis: { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX },
    health: { timeoutMs: env.HEALTH_TIMEOUT_MS },
  };
}
