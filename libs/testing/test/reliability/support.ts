/* Shared helpers of the fault and fuzz tests (issue 9): real processes, real servers, real clients. */
import { io, type Socket } from 'socket.io-client';
import type { DownstreamEvent, TodoJson } from '@app/contracts';
import { waitFor } from '@app/testing';

/** A positive integer from the environment (the long runs raise the CI-sized defaults). */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export async function requestJson<T = Record<string, unknown>>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<JsonResponse<T>> {
  const method = init.method ?? (init.body === undefined ? 'GET' : 'POST');
  const started = Date.now();
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(init.timeoutMs ?? 15_000),
    });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    throw new Error(
      `${method} ${url} failed after ${Date.now() - started} ms: ${(error as Error).message}${cause ? ` (${cause.message})` : ''}`,
      {
        cause: error,
      },
    );
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

export async function createTodo(
  todoUrl: string,
  userid: string,
  content: Record<string, unknown> = { title: 't' },
): Promise<TodoJson> {
  const response = await requestJson<TodoJson>(`${todoUrl}/todos`, { body: { userid, content } });
  if (response.status !== 201) {
    throw new Error(`POST /todos answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return response.body;
}

export interface Completion {
  todo: TodoJson;
  event: { id: string; status: 'delivered' | 'stored' | 'pending' };
}

export async function completeTodo(todoUrl: string, todoid: number): Promise<Completion> {
  const response = await requestJson<Completion>(`${todoUrl}/todos/${todoid}/complete/downstream`, {
    method: 'POST',
  });
  if (response.status !== 200) {
    throw new Error(`complete ${todoid} answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return response.body;
}

/** Runs `task` over `items` with at most `concurrency` at a time; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** A Socket.IO client of one user, as the external portal runs it; records every event it receives. */
export interface UserClient {
  socket: Socket;
  userid: string;
  /** Every `downstream` event in arrival order (replays included). */
  events: DownstreamEvent[];
  /** Distinct event ids received. */
  ids: Set<string>;
  /** Acknowledge events from now on (true) or hold them unacknowledged (false). */
  acking: boolean;
  connects: number;
  close(): void;
}

export interface ClientOptions {
  acking?: boolean;
  /** Connect and wait for the first `connect` (default true). */
  waitConnected?: boolean;
  timeoutMs?: number;
  extraHeaders?: Record<string, string>;
}

export async function connectUser(
  url: string,
  userid: string,
  token: string,
  options: ClientOptions = {},
): Promise<UserClient> {
  const socket = io(url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 2_000,
    randomizationFactor: 0.5,
    timeout: 10_000,
    forceNew: true,
    extraHeaders: options.extraHeaders,
  });
  const client: UserClient = {
    socket,
    userid,
    events: [],
    ids: new Set(),
    acking: options.acking ?? true,
    connects: 0,
    close: () => {
      socket.removeAllListeners();
      socket.disconnect();
    },
  };
  socket.on('connect', () => {
    client.connects += 1;
  });
  // Socket.IO does not reconnect by itself after a server-side disconnect (a draining replica may
  // send one); a portal reconnects after a jittered pause, so that it lands on another replica.
  socket.on('disconnect', (reason: string) => {
    if (reason === 'io server disconnect') {
      setTimeout(() => socket.connect(), 100 + Math.floor(Math.random() * 900));
    }
  });
  socket.on('downstream', (event: DownstreamEvent, ack?: (value?: unknown) => void) => {
    client.events.push(event);
    client.ids.add(event.id);
    if (client.acking && typeof ack === 'function') {
      ack();
    }
  });
  if (options.waitConnected ?? true) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${userid} did not connect within ${options.timeoutMs ?? 10_000} ms`)),
        options.timeoutMs ?? 10_000,
      );
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('connect_error', (error: Error) => {
        clearTimeout(timer);
        reject(new Error(`${userid}: connect_error ${error.message}`));
      });
    });
  }
  return client;
}

/**
 * Resolves with the connect_error message a handshake gets, 'connected' if it was accepted,
 * 'closed' if the server dropped the transport first, or 'timeout' if nothing happened in time.
 */
export function handshakeOutcome(
  url: string,
  auth: Record<string, unknown> | undefined,
  timeoutMs = 10_000,
  path?: string,
): Promise<string> {
  return new Promise((resolve) => {
    const socket = io(path ? `${url}${path}` : url, {
      auth,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: timeoutMs,
    });
    let done = false;
    const finish = (outcome: string): void => {
      if (done) {
        return;
      }
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.io.removeAllListeners();
      socket.disconnect();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.once('connect', () => finish('connected'));
    socket.once('connect_error', (error: Error) => finish(error.message));
    // The manager may report the transport close before the connect_error packet it carried.
    socket.io.once('close', () => setImmediate(() => finish('closed')));
  });
}

/** Waits until `client` holds every id of `ids`; the error names how many are missing. */
export async function waitForIds(
  client: UserClient,
  ids: Iterable<string>,
  timeoutMs: number,
): Promise<void> {
  const wanted = [...ids];
  await waitFor(() => wanted.every((id) => client.ids.has(id)), {
    timeoutMs,
    intervalMs: 100,
    description: `${client.userid} to hold ${wanted.length} event ids (missing ${wanted.filter((id) => !client.ids.has(id)).length})`,
  }).catch((error: Error) => {
    const missing = wanted.filter((id) => !client.ids.has(id)).length;
    throw new Error(`${error.message}; at the end ${missing} of ${wanted.length} were missing`);
  });
}

/** A value of Prometheus text exposition (first sample whose line starts with `prefix`). */
export function metricValue(text: string, prefix: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Resident memory of a process (Linux /proc), in bytes. */
export async function residentBytes(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}
