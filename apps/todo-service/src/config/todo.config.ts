import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { CommonEnv, type CommonConfig, commonConfig, validateEnv } from '@app/config';

export class TodoEnv extends CommonEnv {
  @IsOptional()
  @IsInt({ message: 'must be a TCP port number' })
  @Min(0) // 0: any free port (tests)
  @Max(65535)
  PORT: number = 3000;

  @IsOptional()
  @Matches(/^mongodb(\+srv)?:\/\/\S+$/, { message: 'must be a mongodb:// or mongodb+srv:// URI' })
  MONGODB_URI: string = 'mongodb://127.0.0.1:27017/downstream';

  /** Upper bound for one MongoDB operation and for server selection, so requests fail (503) instead of hanging. */
  @IsOptional()
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(100)
  @Max(120_000)
  MONGODB_TIMEOUT_MS: number = 5_000;

  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'must be an http:// or https:// URL' })
  EVENT_API_URL: string = 'http://127.0.0.1:3001';

  /** Upper bound for one call of the Event API. */
  @IsOptional()
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(50)
  @Max(60_000)
  EVENT_API_TIMEOUT_MS: number = 3_000;

  /** How often the outbox dispatcher looks for pending completion events while there are some. */
  @IsOptional()
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(10)
  @Max(600_000)
  OUTBOX_POLL_MS: number = 1_000;

  /**
   * The longest pause between two looks once they find nothing: the pause doubles from
   * OUTBOX_POLL_MS up to this. A failed delivery of this process wakes the dispatcher at its retry
   * time whatever the pause; this bounds how late events left pending by another process (one
   * that crashed or stopped) are picked up.
   */
  @IsOptional()
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(10)
  @Max(3_600_000)
  OUTBOX_IDLE_POLL_MS: number = 30_000;

  /** Backoff after the first failed delivery; doubles per attempt (with jitter) up to OUTBOX_MAX_BACKOFF_MS. */
  @IsOptional()
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(10)
  @Max(600_000)
  OUTBOX_BASE_BACKOFF_MS: number = 1_000;

  @IsOptional()
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(10)
  @Max(86_400_000)
  OUTBOX_MAX_BACKOFF_MS: number = 300_000;

  /** How long one replica holds an event while delivering it; must exceed EVENT_API_TIMEOUT_MS. */
  @IsOptional()
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(100)
  @Max(3_600_000)
  OUTBOX_LEASE_MS: number = 30_000;

  /** Receipts read by a consumer that stopped are taken over after being idle this long. */
  @IsOptional()
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(100)
  @Max(3_600_000)
  RECEIPTS_CLAIM_IDLE_MS: number = 30_000;
}

export interface TodoConfig extends CommonConfig {
  mongodb: { uri: string; timeoutMs: number };
  eventApi: { url: string; timeoutMs: number };
  outbox: {
    pollMs: number;
    idlePollMs: number;
    baseBackoffMs: number;
    maxBackoffMs: number;
    leaseMs: number;
  };
  receipts: { claimIdleMs: number };
}

export function loadTodoConfig(env: NodeJS.ProcessEnv): TodoConfig {
  const valid = validateEnv(TodoEnv, env);
  return {
    ...commonConfig(valid, valid.PORT),
    mongodb: { uri: valid.MONGODB_URI, timeoutMs: valid.MONGODB_TIMEOUT_MS },
    eventApi: { url: valid.EVENT_API_URL.replace(/\/+$/, ''), timeoutMs: valid.EVENT_API_TIMEOUT_MS },
    outbox: {
      pollMs: valid.OUTBOX_POLL_MS,
      idlePollMs: Math.max(valid.OUTBOX_IDLE_POLL_MS, valid.OUTBOX_POLL_MS),
      baseBackoffMs: valid.OUTBOX_BASE_BACKOFF_MS,
      maxBackoffMs: Math.max(valid.OUTBOX_MAX_BACKOFF_MS, valid.OUTBOX_BASE_BACKOFF_MS),
      leaseMs: Math.max(valid.OUTBOX_LEASE_MS, valid.EVENT_API_TIMEOUT_MS + 1_000),
    },
    receipts: { claimIdleMs: valid.RECEIPTS_CLAIM_IDLE_MS },
  };
}
