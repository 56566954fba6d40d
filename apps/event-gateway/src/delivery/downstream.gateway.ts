import { Logger } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { AdminUiService } from '../admin/admin-ui.service';
import { DeliveryService } from './delivery.service';
import { SocketAuthService, UNAUTHORIZED } from './socket-auth.service';

/** The client → server event that renews a socket's token before it expires. */
export const REAUTHENTICATE_EVENT = 'reauthenticate';

export type ReauthenticateAnswer = { ok: true; exp: number } | { ok: false; error: string };

/**
 * The Socket.IO endpoint of SPEC section 5 (path, transports, CORS and the Redis adapter come from
 * GatewayIoAdapter). Thin: authentication in the handshake middleware, delivery in DeliveryService.
 */
@WebSocketGateway()
export class DownstreamGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(DownstreamGateway.name);

  constructor(
    private readonly auth: SocketAuthService,
    private readonly delivery: DeliveryService,
    private readonly adminUi: AdminUiService,
  ) {}

  afterInit(server: Server): void {
    server.use(this.auth.middleware());
    this.delivery.attachServer(server);
    this.adminUi.instrument(server);
  }

  handleConnection(socket: Socket): void {
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
  @SubscribeMessage(REAUTHENTICATE_EVENT)
  async reauthenticate(
    @ConnectedSocket() socket: Socket,
    @MessageBody() body: unknown,
  ): Promise<ReauthenticateAnswer> {
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
}
