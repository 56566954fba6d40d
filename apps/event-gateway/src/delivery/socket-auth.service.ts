import { Injectable, Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { InvalidTokenError, TokenVerifier, type VerifiedToken } from '@app/tokens';

/** The message of the `connect_error` a refused handshake gets (SPEC section 5). */
export const UNAUTHORIZED = 'unauthorized';

/**
 * What the handshake middleware leaves on `socket.data` (and the Admin UI shows): its own fields, not
 * an object of their own, which would cost one more object per socket.
 */
export interface SocketUser {
  userId: string;
  jti: string;
  /** Expiry of the current token, in seconds since the epoch. */
  exp: number;
}

/** The token of a handshake: `auth.token` (browsers) or `Authorization: Bearer` (other clients). */
export function handshakeToken(socket: Pick<Socket, 'handshake'>): string | undefined {
  const auth = socket.handshake.auth as Record<string, unknown> | undefined;
  if (auth && typeof auth.token === 'string' && auth.token.length > 0) {
    return auth.token;
  }
  const header = socket.handshake.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) {
      return match[1];
    }
  }
  return undefined;
}

/** Verifies handshake tokens with the same rules as the auth-service (signature, alg, exp, iss/aud, revocation). */
@Injectable()
export class SocketAuthService {
  private readonly logger = new Logger(SocketAuthService.name);

  constructor(private readonly verifier: TokenVerifier) {}

  /**
   * Resolves with the verified token, or with undefined when the token must be refused. Errors that
   * are not the client's fault (Redis down) reject, so the handshake fails without blaming the token.
   */
  async authenticate(token: unknown): Promise<VerifiedToken | undefined> {
    if (typeof token !== 'string' || token.length === 0) {
      return undefined;
    }
    try {
      return await this.verifier.verify(token);
    } catch (error) {
      if (error instanceof InvalidTokenError) {
        this.logger.debug(`handshake refused: ${error.reason}`);
        return undefined;
      }
      throw error;
    }
  }

  /** Socket.IO middleware for the default namespace: refuses with `unauthorized`, else sets `socket.data` (SocketUser). */
  middleware(): (socket: Socket, next: (error?: Error) => void) => void {
    return (socket, next) => {
      this.authenticate(handshakeToken(socket)).then(
        (verified) => {
          if (!verified) {
            next(new Error(UNAUTHORIZED));
            return;
          }
          const user = socket.data as SocketUser;
          user.userId = verified.sub;
          user.jti = verified.jti;
          user.exp = verified.exp;
          next();
        },
        (error: unknown) => {
          this.logger.warn(
            `handshake could not be verified: ${error instanceof Error ? error.message : String(error)}`,
          );
          next(new Error('service unavailable'));
        },
      );
    };
  }
}
