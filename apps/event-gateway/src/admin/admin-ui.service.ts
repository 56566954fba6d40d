import { createRequire } from 'node:module';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { instrument } from '@socket.io/admin-ui';
import type { Server } from 'socket.io';
import { parseBasicAuth, sameSecret, secretDigest } from '@app/http';
import type { AdminUiSettings, GatewayConfig } from '../config/gateway.config';

/** The Socket.IO namespace the Admin UI connects to. */
export const ADMIN_NAMESPACE = '/admin';

/** bcryptjs as @socket.io/admin-ui itself resolves it (its own dependency, not ours). */
const bcrypt = createRequire(require.resolve('@socket.io/admin-ui'))('bcryptjs') as {
  hashSync(password: string, rounds: number): string;
};

/**
 * The Socket.IO Admin UI: instruments the server (namespace `/admin`, basic auth with a bcrypt hash
 * of ADMIN_UI_PASSWORD, read-only outside development) and checks the same credentials for the UI
 * files the gateway serves under `/admin/`.
 */
@Injectable()
export class AdminUiService {
  private readonly settings: AdminUiSettings;
  /** The expected credentials, as `sameSecret` compares them. */
  private readonly expected: { username: Buffer; password: Buffer };

  constructor(config: ConfigService<GatewayConfig, true>) {
    this.settings = config.getOrThrow('adminUi', { infer: true });
    this.expected = {
      username: secretDigest(this.settings.username),
      password: secretDigest(this.settings.password),
    };
  }

  instrument(server: Server): void {
    // Runs before the Admin UI's own check: it hands the password to bcrypt, which rejects a
    // non-string, and that unhandled rejection would end the process.
    server.of(ADMIN_NAMESPACE).use((socket, next) => {
      const auth = socket.handshake.auth as Record<string, unknown> | undefined;
      if (typeof auth?.username === 'string' && typeof auth.password === 'string') {
        next();
      } else {
        next(new Error('invalid credentials'));
      }
    });
    instrument(server, {
      namespaceName: ADMIN_NAMESPACE,
      auth: {
        type: 'basic',
        username: this.settings.username,
        password: bcrypt.hashSync(this.settings.password, 10),
      },
      readonly: this.settings.readonly,
      mode: this.settings.readonly ? 'production' : 'development',
    });
  }

  /** True when an `Authorization: Basic …` header carries the configured credentials (constant time). */
  checkBasicAuth(header: string | undefined): boolean {
    const credentials = parseBasicAuth(header);
    if (!credentials) {
      return false;
    }
    // Both compared, always: the time does not tell which one was wrong.
    const userOk = sameSecret(credentials.id, this.expected.username);
    const passwordOk = sameSecret(credentials.secret, this.expected.password);
    return userOk && passwordOk;
  }
}
