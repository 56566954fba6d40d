import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { type CommonConfig, commonConfig, ConfigError, validateEnv } from '@app/config';
import { type TokenConfig, TokenEnv, tokenConfigFromEnv } from '@app/tokens';

const CLIENT_ID = /^[A-Za-z0-9._-]{1,64}$/;
const MIN_CLIENT_SECRET_LENGTH = 8;

export class AuthEnv extends TokenEnv {
  @IsOptional()
  @IsInt({ message: 'must be a TCP port number' })
  @Min(0)
  @Max(65535)
  PORT: number = 3002;

  /** `id:secret,id2:secret2`: the clients allowed to request and revoke tokens. No default. */
  @IsString({ message: 'is required (id:secret,id2:secret2)' })
  AUTH_CLIENTS!: string;

  @IsOptional()
  @IsInt({ message: 'must be an integer number of seconds' })
  @Min(1)
  JWT_DEFAULT_EXPIRES_IN: number = 3_600;

  @IsOptional()
  @IsInt({ message: 'must be an integer number of seconds' })
  @Min(1)
  @Max(31_536_000)
  JWT_MAX_EXPIRES_IN: number = 86_400;

  /** Failed client authentications allowed per client id and IP address within the window. */
  @IsOptional()
  @IsInt({ message: 'must be a positive integer' })
  @Min(1)
  @Max(100_000)
  AUTH_RATE_LIMIT_FAILURES: number = 10;

  @IsOptional()
  @IsInt({ message: 'must be an integer number of seconds' })
  @Min(1)
  @Max(86_400)
  AUTH_RATE_LIMIT_WINDOW_SECONDS: number = 60;
}

export interface AuthClient {
  id: string;
  secret: string;
}

export interface AuthConfig extends CommonConfig {
  jwt: TokenConfig;
  auth: {
    clients: AuthClient[];
    defaultExpiresIn: number;
    maxExpiresIn: number;
    rateLimit: { failures: number; windowSeconds: number };
  };
}

/** Parses `AUTH_CLIENTS`; the secret is everything after the first colon. Never echoes a value. */
export function parseAuthClients(value: string): AuthClient[] {
  const clients: AuthClient[] = [];
  for (const entry of value.split(',')) {
    const trimmed = entry.trim();
    const colon = trimmed.indexOf(':');
    const id = colon > 0 ? trimmed.slice(0, colon) : '';
    const secret = colon > 0 ? trimmed.slice(colon + 1) : '';
    if (!CLIENT_ID.test(id)) {
      throw new ConfigError('AUTH_CLIENTS', 'must be a comma-separated list of id:secret, ids of 1-64 characters [A-Za-z0-9._-]');
    }
    if (secret.length < MIN_CLIENT_SECRET_LENGTH) {
      throw new ConfigError('AUTH_CLIENTS', `has a client secret shorter than ${MIN_CLIENT_SECRET_LENGTH} characters (client ${id})`);
    }
    if (clients.some((client) => client.id === id)) {
      throw new ConfigError('AUTH_CLIENTS', `lists client ${id} twice`);
    }
    clients.push({ id, secret });
  }
  return clients;
}

export function loadAuthConfig(env: NodeJS.ProcessEnv): AuthConfig {
  const valid = validateEnv(AuthEnv, env);
  const jwt = tokenConfigFromEnv(valid);
  if (jwt.algorithm !== 'HS256' && !jwt.privateKey) {
    throw new ConfigError('JWT_PRIVATE_KEY', `is required by the auth-service when JWT_ALGORITHM is ${jwt.algorithm}`);
  }
  const clients = parseAuthClients(valid.AUTH_CLIENTS);
  if (valid.JWT_DEFAULT_EXPIRES_IN > valid.JWT_MAX_EXPIRES_IN) {
    throw new ConfigError('JWT_DEFAULT_EXPIRES_IN', 'must not exceed JWT_MAX_EXPIRES_IN');
  }
  return {
    ...commonConfig(valid, valid.PORT),
    jwt,
    auth: {
      clients,
      defaultExpiresIn: valid.JWT_DEFAULT_EXPIRES_IN,
      maxExpiresIn: valid.JWT_MAX_EXPIRES_IN,
      rateLimit: { failures: valid.AUTH_RATE_LIMIT_FAILURES, windowSeconds: valid.AUTH_RATE_LIMIT_WINDOW_SECONDS },
    },
  };
}
