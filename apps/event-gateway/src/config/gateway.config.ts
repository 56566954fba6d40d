import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { type CommonConfig, commonConfig, validateEnv } from '@app/config';
import { type TokenConfig, tokenConfigFromEnv, TokenEnv } from '@app/tokens';

/** The gateway's environment: common variables, the JWT verification settings, and its own. */
export class GatewayEnv extends TokenEnv {
  @IsOptional()
  @IsInt({ message: 'must be a TCP port number' })
  @Min(0)
  @Max(65535)
  PORT: number = 3001;

  /** Basic-auth user of the Socket.IO Admin UI (namespace `/admin` and the UI files under `/admin/`). */
  @IsString({ message: 'is required (the Socket.IO Admin UI user name)' })
  @MinLength(1, { message: 'is required (the Socket.IO Admin UI user name)' })
  @MaxLength(128)
  ADMIN_UI_USERNAME!: string;

  /** Basic-auth password of the Socket.IO Admin UI; hashed with bcrypt at boot, never logged. */
  @IsString({ message: 'is required (the Socket.IO Admin UI password)' })
  @MinLength(8, { message: 'must be at least 8 characters' })
  @MaxLength(72, { message: 'must be at most 72 characters (bcrypt)' })
  ADMIN_UI_PASSWORD!: string;

  /** Comma-separated browser origins allowed to open a socket; empty: same origin only. */
  @IsOptional()
  @Matches(/^(\*|https?:\/\/[^,\s]+(,https?:\/\/[^,\s]+)*)?$/, {
    message: 'must be a comma-separated list of http(s):// origins, or *',
  })
  CORS_ORIGINS: string = '';

  /** How long an unacknowledged event stays in a user's inbox. */
  @IsOptional()
  @IsInt({ message: 'must be an integer number of seconds' })
  @Min(1)
  @Max(30 * 24 * 3600)
  EVENT_RETENTION_SECONDS: number = 86_400;

  /** Most events kept per user; the oldest are dropped (and counted as expired). */
  @IsOptional()
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  @Max(100_000)
  EVENT_INBOX_MAX: number = 1_000;

  /** How long the gateway waits for a client's acknowledgement of one emit. */
  @IsOptional()
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(100)
  @Max(600_000)
  ACK_TIMEOUT_MS: number = 10_000;

  /** Lifetime of a replica's registry lease; a crashed replica's clients vanish within it. */
  @IsOptional()
  @IsInt({ message: 'must be an integer number of seconds' })
  @Min(1)
  @Max(3_600)
  CLIENT_LEASE_SECONDS: number = 15;

  /** Socket.IO `maxHttpBufferSize`: the largest message a client may send, in bytes. */
  @IsOptional()
  @IsInt({ message: 'must be an integer number of bytes' })
  @Min(1_024)
  @Max(100_000_000)
  MAX_HTTP_BUFFER_SIZE: number = 1_000_000;
}

export interface GatewaySettings {
  corsOrigins: string[] | '*';
  retentionSeconds: number;
  inboxMax: number;
  ackTimeoutMs: number;
  leaseSeconds: number;
  maxHttpBufferSize: number;
}

export interface AdminUiSettings {
  username: string;
  password: string;
  readonly: boolean;
}

export interface GatewayConfig extends CommonConfig {
  gateway: GatewaySettings;
  adminUi: AdminUiSettings;
  jwt: TokenConfig;
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const valid = validateEnv(GatewayEnv, env);
  const origins = valid.CORS_ORIGINS.trim();
  return {
    ...commonConfig(valid, valid.PORT),
    jwt: tokenConfigFromEnv(valid),
    gateway: {
      corsOrigins: origins === '*' ? '*' : origins.split(',').filter((origin) => origin.length > 0),
      retentionSeconds: valid.EVENT_RETENTION_SECONDS,
      inboxMax: valid.EVENT_INBOX_MAX,
      ackTimeoutMs: valid.ACK_TIMEOUT_MS,
      leaseSeconds: valid.CLIENT_LEASE_SECONDS,
      maxHttpBufferSize: valid.MAX_HTTP_BUFFER_SIZE,
    },
    adminUi: {
      username: valid.ADMIN_UI_USERNAME,
      password: valid.ADMIN_UI_PASSWORD,
      readonly: valid.NODE_ENV !== 'development',
    },
  };
}
