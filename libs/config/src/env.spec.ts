import { IsInt, IsOptional, Matches, MinLength } from 'class-validator';
import { CommonEnv, ConfigError, commonConfig, validateEnv } from '@app/config';

class SampleEnv extends CommonEnv {
  @IsOptional()
  @IsInt({ message: 'must be a TCP port number' })
  PORT: number = 4000;

  @MinLength(32, { message: 'must be at least 32 bytes' })
  SECRET!: string;

  @IsOptional()
  @Matches(/^https?:\/\//, { message: 'must be an http:// URL' })
  UPSTREAM: string = 'http://127.0.0.1:1';
}

describe('validateEnv', () => {
  const secret = 'x'.repeat(32);

  it('applies defaults and converts numbers', () => {
    const env = validateEnv(SampleEnv, { SECRET: secret, PORT: '8081' });
    expect(env.PORT).toBe(8081);
    expect(env.UPSTREAM).toBe('http://127.0.0.1:1');
    expect(commonConfig(env, env.PORT)).toMatchObject({ port: 8081, logLevel: 'info', redis: { url: 'redis://127.0.0.1:6379', keyPrefix: '' } });
  });

  it('treats an empty variable as unset', () => {
    expect(validateEnv(SampleEnv, { SECRET: secret, UPSTREAM: '' }).UPSTREAM).toBe('http://127.0.0.1:1');
  });

  it('names the variable of a missing required value in a one-line error', () => {
    const error = (() => {
      try {
        validateEnv(SampleEnv, {});
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('SECRET');
    expect((error as ConfigError).message).toBe('invalid configuration: SECRET must be at least 32 bytes');
  });

  it('rejects a port that is not a number', () => {
    expect(() => validateEnv(SampleEnv, { SECRET: secret, PORT: 'eighty' })).toThrow(/^invalid configuration: PORT /);
  });

  it('never echoes the value of a bad variable', () => {
    expect(() => validateEnv(SampleEnv, { SECRET: 'short-but-secret' })).toThrow(expect.objectContaining({ message: expect.not.stringContaining('short-but-secret') }));
  });

  it('rejects an unknown log level and a malformed Redis URL', () => {
    expect(() => validateEnv(SampleEnv, { SECRET: secret, LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL must be one of/);
    expect(() => validateEnv(SampleEnv, { SECRET: secret, REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL must be a redis:\/\//);
  });
});
