import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import Redis, { type RedisOptions } from 'ioredis';

export interface RedisSettings {
  url: string;
  keyPrefix: string;
}

/**
 * Owns every Redis connection of a service: the command client, and duplicates for blocking
 * commands or subscriptions. All of them are closed on shutdown.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  private readonly connections: Redis[] = [];
  /** The shared command client; keys are prefixed with `keyPrefix` automatically. */
  readonly client: Redis;

  constructor(readonly settings: RedisSettings) {
    // Commands issued in the same tick share one write: under load this is most of the win
    // between one socket write per command and a pipeline (the gateway's hot path).
    this.client = this.connect('main', { enableAutoPipelining: true });
  }

  /**
   * Has the command client write these commands (by name; custom scripts by the name they were
   * defined with) as soon as they are called, instead of gathering them for the end of the tick.
   * For callers that batch their own calls: a gathered command costs the client a pipeline object
   * and one more turn of the event loop, 15–45 µs of CPU for a lone script call here
   * (bench/analysis.md), which buys nothing when the call already carries a whole batch.
   */
  sendAtOnce(...commands: string[]): void {
    const ignored = this.client.options.autoPipeliningIgnoredCommands ?? [];
    this.client.options.autoPipeliningIgnoredCommands = [
      ...ignored,
      ...commands.filter((command) => !ignored.includes(command)),
    ];
  }

  /** A channel or key name with the configured prefix (ioredis does not prefix pub/sub channels). */
  prefixed(name: string): string {
    return `${this.settings.keyPrefix}${name}`;
  }

  /** A new connection with the same settings, for subscribers and blocking reads. */
  connect(role: string, overrides: RedisOptions = {}): Redis {
    const connection = new Redis(this.settings.url, {
      keyPrefix: this.settings.keyPrefix || undefined,
      connectionName: role,
      // Fail commands fast while Redis is down instead of queueing them forever.
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
      lazyConnect: false,
      ...overrides,
    });
    connection.on('error', (error: Error) => {
      this.logger.warn(`redis (${role}): ${error.message}`);
    });
    this.connections.push(connection);
    return connection;
  }

  /** PING with an upper bound on the wait; rejects when Redis does not answer in time. */
  async ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.client.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`redis did not answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(
      this.connections.map(async (connection) => {
        try {
          await connection.quit();
        } catch {
          connection.disconnect();
        }
      }),
    );
  }
}
