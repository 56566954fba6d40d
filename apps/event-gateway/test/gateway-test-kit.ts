import { createHmac } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { DownstreamEvent } from '@app/contracts';
import { serviceEnv, startTestApp, type TestApp, type TestNamespace } from '@app/testing';
import { TokenIssuer } from '@app/tokens';
import { eventGateway } from '../src/service';

/** Starts an in-process gateway on the test Redis, isolated by `ns`. */
export function startGateway(ns: TestNamespace, overrides: Record<string, string> = {}): Promise<TestApp> {
  return startTestApp(eventGateway, serviceEnv('event-gateway', ns, overrides));
}

/** Mints a real token (same Redis, prefix and secret as the gateway). */
export async function tokenFor(
  app: TestApp,
  sub: string,
  expiresIn?: number,
): Promise<{ token: string; jti: string }> {
  const issued = await app.app.get(TokenIssuer).issue({ sub, ...(expiresIn ? { expiresIn } : {}) });
  return { token: issued.access_token, jti: issued.jti };
}

export interface TestClient {
  socket: Socket;
  events: DownstreamEvent[];
  /** Acknowledgement callbacks not called yet (when autoAck is off), by event id. */
  pendingAcks: Map<string, () => void>;
}

const clients = new Set<Socket>();

/** Connects a real socket.io-client; resolves once connected, rejects with the connect_error. */
export function connectClient(
  url: string,
  token: string | undefined,
  options: {
    autoAck?: boolean;
    transports?: ('websocket' | 'polling')[];
    headers?: Record<string, string>;
  } = {},
): Promise<TestClient> {
  const socket = io(url, {
    path: '/socket.io',
    auth: token === undefined ? {} : { token },
    transports: options.transports ?? ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 5_000,
    ...(options.headers ? { extraHeaders: options.headers } : {}),
  });
  clients.add(socket);
  const client: TestClient = { socket, events: [], pendingAcks: new Map() };
  socket.on('downstream', (event: DownstreamEvent, ack: () => void) => {
    client.events.push(event);
    if (options.autoAck === false) {
      client.pendingAcks.set(event.id, ack);
    } else {
      ack();
    }
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(client));
    socket.once('connect_error', (error: Error) => {
      socket.close();
      reject(error);
    });
  });
}

/** Disconnects every client opened with connectClient. */
export function closeClients(): void {
  for (const socket of clients) {
    socket.close();
  }
  clients.clear();
}

export async function postEvent(
  url: string,
  userid: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/events/${userid}/downstream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function broadcast(
  url: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/events/downstream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A compact JWS signed with HMAC-SHA256 (or unsigned for `alg: none`), built without the product's code. */
export function craftJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret?: string,
): string {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode(header)}.${encode(payload)}`;
  const signature = secret ? createHmac('sha256', secret).update(signingInput).digest('base64url') : '';
  return `${signingInput}.${signature}`;
}

/** Resolves with the reason once `socket` disconnects. */
export function disconnected(socket: Socket, timeoutMs = 10_000): Promise<string> {
  if (socket.disconnected) {
    return Promise.resolve('already disconnected');
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket did not disconnect')), timeoutMs);
    socket.once('disconnect', (reason: string) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}
