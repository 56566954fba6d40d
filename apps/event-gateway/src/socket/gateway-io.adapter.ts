import type { IncomingMessage } from 'node:http';
import { type INestApplicationContext, Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { createAdapter } from '@socket.io/redis-adapter';
import type Redis from 'ioredis';
import type { Server, ServerOptions } from 'socket.io';
import type { RedisService } from '@app/redis';
import type { GatewaySettings } from '../config/gateway.config';

/** SPEC section 5: the Socket.IO path. */
export const SOCKET_IO_PATH = '/socket.io';

/**
 * Decides whether a browser origin may open a socket: no Origin header (not a browser), an origin of
 * CORS_ORIGINS (or any with `*`), or the gateway's own origin (as the Host or X-Forwarded-Host header
 * names it, so the page works behind a same-origin reverse proxy).
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: string[] | '*',
): boolean {
  if (!origin) {
    return true;
  }
  if (allowed === '*' || allowed.includes(origin)) {
    return true;
  }
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

function requestHost(request: IncomingMessage): string | undefined {
  const forwarded = request.headers['x-forwarded-host'];
  const value = Array.isArray(forwarded) ? forwarded[0] : (forwarded ?? request.headers.host);
  return value?.split(',')[0].trim();
}

const logger = new Logger('GatewayIoAdapter');

/** The socket type of Nest's IoAdapter (it resolves its own copy of socket.io's types). */
type NestSocket = Parameters<IoAdapter['bindMessageHandlers']>[0];

/**
 * The adapter publishes without handling the promise; while Redis is down (or after shutdown, when the
 * Admin UI's stats timer still fires) that would be an unhandled rejection, which ends the process.
 * This wrapper logs the failure instead; the emit is lost, as an emit to a dead link always is.
 */
export function quietPublisher(client: Redis): Redis {
  return new Proxy(client, {
    get(target, property) {
      if (property === 'publish') {
        return (...args: Parameters<Redis['publish']>) =>
          target.publish(...args).catch((error: unknown) => {
            logger.warn(
              `socket.io publish failed: ${error instanceof Error ? error.message : String(error)}`,
            );
            return 0;
          });
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Socket.IO on the gateway's HTTP server, scaled out with the Redis adapter: every replica sees the
 * rooms and broadcasts of the others. The adapter's channels live under the configured key prefix.
 */
export class GatewayIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly redis: RedisService,
    private readonly settings: GatewaySettings,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const { corsOrigins, maxHttpBufferSize } = this.settings;
    const server = super.createIOServer(port, {
      ...options,
      path: SOCKET_IO_PATH,
      transports: ['polling', 'websocket'],
      maxHttpBufferSize,
      serveClient: true,
      ...(corsOrigins === '*' || corsOrigins.length > 0
        ? { cors: { origin: corsOrigins === '*' ? true : corsOrigins, credentials: true } }
        : {}),
      allowRequest: (
        request: IncomingMessage,
        callback: (error: string | null | undefined, success: boolean) => void,
      ) => {
        const ok = originAllowed(request.headers.origin, requestHost(request), corsOrigins);
        callback(ok ? null : 'origin not allowed', ok);
      },
    }) as Server;
    const pub = quietPublisher(this.redis.connect('socket.io-pub'));
    const sub = this.redis.connect('socket.io-sub', { maxRetriesPerRequest: null });
    server.adapter(
      createAdapter(pub, sub, {
        key: this.redis.prefixed('socket.io'),
        publishOnSpecificResponseChannel: true,
      }),
    );
    return server;
  }

  /**
   * Binds nothing. Nest hands every connected socket a closure of its own (`() => disconnect.next(socket)`,
   * with its context) to call at disconnect, for `OnGatewayDisconnect`: ~0.1 KB per idle socket. The
   * gateways served by this adapter therefore do not implement `handleDisconnect`: they listen for
   * `disconnect` themselves, with one listener shared by every socket (see DownstreamGateway).
   */
  override bindClientDisconnect(): void {
    // Deliberately empty: see above.
  }

  /**
   * Binds nothing per socket. Nest's IoAdapter builds an RxJS pipeline per connected socket here, even
   * for a gateway without handlers (fromEvent + share + first for the disconnect, fromEvent + mergeMap
   * + takeUntil + a subscription per handler): in heap snapshots at 2,000 idle sockets that was 4
   * Observables, 4 OperatorSubscribers, 2 SafeSubscribers, a Subject and ~30 closures with their
   * contexts per socket, most of the gateway's ~9 KB per socket over raw socket.io. The gateways
   * served by this adapter listen for their events themselves, with listeners shared by every socket
   * (see DownstreamGateway); a `@SubscribeMessage` handler would never be called, so it is refused.
   */
  override bindMessageHandlers(_socket: NestSocket, handlers: MessageMappingProperties[]): void {
    if (handlers.length > 0) {
      throw new Error(
        `GatewayIoAdapter binds no @SubscribeMessage handlers (${handlers.map((h) => String(h.message)).join(', ')}): listen in handleConnection`,
      );
    }
  }
}
