import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedEvent {
  path: string;
  body: { id: string; type: string; data: Record<string, unknown> };
}

/**
 * A real HTTP server that plays the Event API (SPEC section 4): records every POST and answers 202
 * `{ id, userid, delivered, stored: true }`. `hold()` makes it wait before answering.
 */
export class EventReceiver {
  readonly received: ReceivedEvent[] = [];
  /** Sockets the gateway claims to have emitted to (0 → `stored`, more → `delivered`). */
  delivered = 0;
  private server?: Server;
  private gate?: Promise<void>;
  private openGate?: () => void;

  /** `prefix`: the path the Event API is served under (as behind a path-routing proxy). */
  constructor(
    public port = 0,
    private readonly prefix = '',
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  ids(): string[] {
    return this.received.map((event) => event.body.id);
  }

  /** Answers of later POSTs wait until `release()`. */
  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  async start(): Promise<this> {
    const server = createServer((request, response) => void this.handle(request, response));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.release();
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) {
      chunks.push(chunk as Buffer);
    }
    const url = request.url ?? '';
    const match = url.startsWith(`${this.prefix}/`)
      ? /^\/events\/([^/]+)\/downstream$/.exec(url.slice(this.prefix.length))
      : null;
    if (request.method !== 'POST' || !match) {
      response.writeHead(404).end();
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedEvent['body'];
    this.received.push({ path: request.url ?? '', body });
    await this.gate;
    const userid = decodeURIComponent(match[1]);
    response.writeHead(202, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ id: body.id, userid, delivered: this.delivered, stored: true }));
  }
}
