import { Logger } from '@nestjs/common';
import { type OnGatewayConnection, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { AdminUiService } from '../admin/admin-ui.service';
import { DeliveryService } from './delivery.service';
import { SocketAuthService, UNAUTHORIZED } from './socket-auth.service';

/** The client → server event that renews a socket's token before it expires. */
export const REAUTHENTICATE_EVENT = 'reauthenticate';

export type ReauthenticateAnswer = { ok: true; exp: number } | { ok: false; error: string };

/** A listener socket.io calls with the socket as `this` (its sockets are Node EventEmitters). */
type SocketListener = (this: Socket, ...args: unknown[]) => void;

/**
 * Lets the HTTP request that opened a socket's connection (the polling handshake or the WebSocket
 * upgrade) be collected. Engine.IO keeps it as `socket.request` for the connection's whole life;
 * by the time a socket connects, its handshake holds what the gateway and the Admin UI read
 * (headers, query, address, auth), and nothing reads the request again. socket.io's own advice for
 * servers with many sockets ("Memory usage" in its docs). A browser's default connection (polling,
 * then the upgrade) kept ~3.5 KB of heap per socket more without it (16.3 against 12.8 KB at 2,000
 * idle sockets, `bench/tools/idle-by-transport.mjs`). A WebSocket-only connection gains nothing:
 * Engine.IO's upgrade response object keeps its request until the TCP connection closes.
 */
function releaseRequest(socket: Socket): void {
  (socket.conn as { request: unknown }).request = null;
}

/**
 * The Socket.IO endpoint of SPEC section 5 (path, transports, CORS and the Redis adapter come from
 * GatewayIoAdapter). Thin: authentication in the handshake middleware, delivery in DeliveryService.
 *
 * A pod holds tens of thousands of mostly idle sockets, so nothing here is allocated per socket: the
 * `reauthenticate` and `disconnect` listeners are one function each, shared by every socket (socket.io
 * calls a listener with its socket as `this`). Nest's own bindings (`@SubscribeMessage`,
 * `OnGatewayDisconnect`) cost a bound handler, a closure and its context per socket and per event,
 * ~0.3 KB per socket at 2,000 idle sockets in heap snapshots; GatewayIoAdapter therefore binds no
 * per-socket disconnect callback, and this gateway has neither.
 */
@WebSocketGateway()
export class DownstreamGateway implements OnGatewayInit, OnGatewayConnection {
  private readonly logger = new Logger(DownstreamGateway.name);
  private readonly onReauthenticate: SocketListener;
  private readonly onDisconnect: SocketListener;

  constructor(
    private readonly auth: SocketAuthService,
    private readonly delivery: DeliveryService,
    private readonly adminUi: AdminUiService,
  ) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the listeners' own `this` is the socket
    const gateway = this;
    this.onReauthenticate = function (this: Socket, ...args: unknown[]): void {
      gateway.answerReauthenticate(this, args);
    };
    this.onDisconnect = function (this: Socket): void {
      gateway.handleDisconnect(this);
    };
  }

  afterInit(server: Server): void {
    server.use(this.auth.middleware());
    this.delivery.attachServer(server);
    this.adminUi.instrument(server);
  }

  handleConnection(socket: Socket): void {
    releaseRequest(socket);
    socket.on(REAUTHENTICATE_EVENT, this.onReauthenticate);
    socket.on('disconnect', this.onDisconnect);
    this.delivery.connect(socket).catch((error: unknown) => {
      this.logger.warn(`connection setup failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  handleDisconnect(socket: Socket): void {
    void this.delivery.disconnect(socket);
  }

  /**
   * `socket.emit('reauthenticate', { token }, ack)`: a fresh token for the same user moves the
   * socket's disconnect-at-expiry to the new token's expiry. Answers `{ ok: true, exp }` or
   * `{ ok: false, error: 'unauthorized' }` (the socket keeps its current expiry).
   */
  async reauthenticate(socket: Socket, body: unknown): Promise<ReauthenticateAnswer> {
    const token = typeof body === 'object' && body !== null ? (body as { token?: unknown }).token : undefined;
    try {
      const verified = await this.auth.authenticate(token);
      if (
        verified &&
        this.delivery.renew(socket, { userId: verified.sub, jti: verified.jti, exp: verified.exp })
      ) {
        return { ok: true, exp: verified.exp };
      }
    } catch (error) {
      this.logger.warn(
        `reauthentication could not be verified: ${error instanceof Error ? error.message : String(error)}`,
      );
      return { ok: false, error: 'unavailable' };
    }
    return { ok: false, error: UNAUTHORIZED };
  }

  /**
   * The listener's arguments as Nest's `@MessageBody()` saw them (the one argument itself, several as
   * an array; a trailing function is the ack), and the answer goes to the ack unless the socket
   * disconnected meanwhile.
   */
  private answerReauthenticate(socket: Socket, args: unknown[]): void {
    const ack =
      typeof args[args.length - 1] === 'function' ? (args.pop() as (answer: unknown) => void) : undefined;
    const body = args.length === 1 ? args[0] : args;
    this.reauthenticate(socket, body).then(
      (answer) => {
        if (ack && socket.connected) {
          ack(answer);
        }
      },
      (error: unknown) => {
        this.logger.warn(`reauthenticate failed: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }
}
