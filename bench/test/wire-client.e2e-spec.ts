import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { Server, type Socket } from 'socket.io';
import { ROOT, benchModule } from './child-node';

/**
 * The bench's lean wire-level client (bench/lib/wire-client.mjs) must speak the protocol a real
 * socket.io server expects: the handshake with its auth payload, refusals, pings, events with their
 * acknowledgements, and a clean disconnect. A real socket.io server here; the client runs in a child
 * process (the bench is ES modules) driven over stdin and reporting JSON lines on stdout.
 */
const CLIENT = `
const { WireSocket } = await import(${benchModule('wire-client.mjs')});
const out = (line) => process.stdout.write(JSON.stringify(line) + '\\n');
const socket = new WireSocket(process.argv[1], { auth: { token: process.argv[2] }, timeout: 10000 });
socket.on('connect', () => out({ connect: socket.connected }));
socket.on('connect_error', (error) => out({ error: error.message }));
socket.on('disconnect', () => out({ disconnect: true }));
socket.on('downstream', (payload, ack) => { out({ event: payload, ack: typeof ack }); if (ack) ack(); });
process.stdin.on('data', (data) => { if (String(data).trim() === 'close') socket.close(); });
`;

class Client {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Array<Record<string, unknown>> = [];
  private waiting?: () => void;

  constructor(url: string, token: string) {
    this.child = spawn(process.execPath, ['--input-type=module', '-e', CLIENT, url, token], { cwd: ROOT });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
      this.waiting?.();
    });
  }

  /** The next line the client reports. */
  async next(): Promise<Record<string, unknown>> {
    while (!this.lines.length) {
      await new Promise<void>((r) => (this.waiting = r));
    }
    return this.lines.shift()!;
  }

  send(command: string): void {
    this.child.stdin.write(`${command}\n`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      this.child.kill();
      await once(this.child, 'exit');
    }
  }
}

describe('the lean wire-level Socket.IO client of the bench', () => {
  let http: HttpServer;
  let io: Server;
  let url: string;
  let clients: Client[] = [];
  const connected: Socket[] = [];

  beforeAll(async () => {
    http = createServer();
    // Short heartbeats so that the client has to answer pings during the test.
    io = new Server(http, { transports: ['websocket'], pingInterval: 30, pingTimeout: 2_000 });
    io.use((socket, next) =>
      socket.handshake.auth.token === 'good' ? next() : next(new Error('unauthorized')),
    );
    io.on('connection', (socket) => connected.push(socket));
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    clients = [];
    connected.length = 0;
  });

  afterAll(async () => {
    await io.close();
  });

  const start = (token: string) => {
    const client = new Client(url, token);
    clients.push(client);
    return client;
  };

  it('connects with its auth payload, answers pings, receives events and acknowledges them, and disconnects', async () => {
    const client = start('good');
    expect(await client.next()).toEqual({ connect: true });
    const [socket] = connected;
    expect(socket.handshake.auth).toEqual({ token: 'good' });

    // Three heartbeats (ping sent, pong received) keep the socket open.
    let beats = 0;
    await new Promise<void>((r) => socket.conn.on('heartbeat', () => ++beats === 3 && r()));
    expect(socket.connected).toBe(true);

    const acked = new Promise<unknown[]>((r) =>
      socket.emit('downstream', { id: 'e1', data: { n: 1 } }, (...args: unknown[]) => r(args)),
    );
    expect(await client.next()).toEqual({ event: { id: 'e1', data: { n: 1 } }, ack: 'function' });
    expect(await acked).toEqual([]);

    socket.emit('downstream', { id: 'e2' });
    expect(await client.next()).toEqual({ event: { id: 'e2' }, ack: 'undefined' });

    const reason = new Promise<string>((r) => socket.once('disconnect', r));
    client.send('close');
    expect(await reason).toBe('client namespace disconnect');
  });

  it('reports a refused handshake with the server’s message and never connects', async () => {
    const client = start('bad');
    expect(await client.next()).toEqual({ error: 'unauthorized' });
    expect(connected).toHaveLength(0);
  });

  it('reports a server-side disconnect', async () => {
    const client = start('good');
    expect(await client.next()).toEqual({ connect: true });
    connected[0].disconnect(true);
    expect(await client.next()).toEqual({ disconnect: true });
  });
});
