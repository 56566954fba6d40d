import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { instrument } from '@socket.io/admin-ui';
import type { Server } from 'socket.io';
import { parseBasicAuth, sameSecret, secretDigest } from '@app/http';
import type { AdminUiSettings, GatewayConfig } from '../config/gateway.config';
import { AdminEventBuffer } from './admin-event-buffer';

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
    const engine = server.engine as EventEmitter | undefined;
    const before = new Set(engine?.listeners('connection') ?? []);
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
    if (engine) {
      shareRawSocketListeners(server, engine, before);
    }
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

/**
 * What `instrument` of @socket.io/admin-ui 0.5 keeps on the server for its aggregated statistics (its
 * typings declare both on Server; they are checked at run time all the same).
 */
type InstrumentedServer = Pick<Server, '_eventBuffer' | '_pollingClientsCount'>;

/** An Engine.IO connection, as the Admin UI's listeners see it. */
interface RawSocket extends EventEmitter {
  transport: { name: string };
}

/**
 * The Admin UI counts raw connections, disconnections, packets and bytes in and out with three
 * listeners per Engine.IO connection, each a new closure (with the context of its connection
 * handler): ~0.2 KB per idle socket in heap snapshots. This replaces its connection handler with one
 * that does the same counting (same events, same statistics, same polling count) with listeners
 * created once per server: Node calls them with the connection as `this`, and they need nothing
 * else. Packets and bytes go to an {@link AdminEventBuffer} in place of the Admin UI's own buffer,
 * which costs microseconds per packet. If the Admin UI did not register exactly one handler, or keeps
 * no `_eventBuffer` (another version), its own handler and buffer stay.
 */
export function shareRawSocketListeners(
  io: InstrumentedServer,
  engine: EventEmitter,
  before: Set<unknown>,
): boolean {
  const added = engine.listeners('connection').filter((listener) => !before.has(listener));
  if (
    added.length !== 1 ||
    typeof (io._eventBuffer as unknown as Partial<InstrumentedServer['_eventBuffer']> | undefined)?.push !==
      'function'
  ) {
    return false;
  }
  const buffer = new AdminEventBuffer();
  // The Admin UI reads `io._eventBuffer` each time it collects (every 2 s), and only calls `push`
  // and `getValuesAndClear` on it.
  io._eventBuffer = buffer as unknown as InstrumentedServer['_eventBuffer'];
  const onPacketCreate = ({ data }: { data?: string | Buffer }): void => {
    if (data) {
      buffer.countOut(data);
    }
  };
  const onPacket = ({ data }: { data?: string | Buffer }): void => {
    if (data) {
      buffer.countIn(data);
    }
  };
  const onClose = (reason: string): void => {
    buffer.push('rawDisconnection', reason);
  };
  const pollingDone = (): void => {
    io._pollingClientsCount = io._pollingClientsCount - 1;
  };
  engine.off('connection', added[0] as (...args: unknown[]) => void);
  engine.on('connection', (rawSocket: RawSocket) => {
    buffer.push('rawConnection');
    if (rawSocket.transport.name === 'polling') {
      // Until the upgrade (or the close) only: as the Admin UI does it.
      io._pollingClientsCount = io._pollingClientsCount + 1;
      const decrement = (): void => {
        rawSocket.removeListener('close', decrement);
        rawSocket.removeListener('upgrade', decrement);
        pollingDone();
      };
      rawSocket.once('upgrade', decrement);
      rawSocket.once('close', decrement);
    }
    rawSocket.on('packetCreate', onPacketCreate);
    rawSocket.on('packet', onPacket);
    rawSocket.on('close', onClose);
  });
  return true;
}
