import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import { instrument } from '@socket.io/admin-ui';
import { Server } from 'socket.io';
import { AdminEventBuffer } from './admin-event-buffer';
import { shareRawSocketListeners } from './admin-ui.service';

type RawSocket = EventEmitter & { transport: { name: string } };

/** Stand-ins for Engine.IO connections: the Admin UI's listeners only use their events and transport. */
const opened: RawSocket[] = [];
function rawSocket(transport = 'websocket'): RawSocket {
  const socket = Object.assign(new EventEmitter(), { transport: { name: transport } });
  opened.push(socket);
  return socket;
}

describe('shareRawSocketListeners (Admin UI statistics without closures per connection)', () => {
  let io: Server;

  beforeEach(() => {
    io = new Server(createServer());
    const before = new Set(io.engine.listeners('connection'));
    instrument(io, { auth: false, readonly: true, mode: 'production' });
    expect(shareRawSocketListeners(io, io.engine, before)).toBe(true);
  });

  afterEach(async () => {
    // socket.io gives every connection 45 s to join a namespace; a closed one stops that timer.
    for (const socket of opened.splice(0)) {
      socket.emit('close', 'test over');
    }
    await io.close();
  });

  const events = (): Array<{ type: string; subType?: string; count: number }> =>
    io._eventBuffer.getValuesAndClear().map(({ type, subType, count }) => ({ type, subType, count }));

  it("gives every connection the same Admin UI listeners (registered after socket.io's own)", () => {
    const [a, b] = [rawSocket(), rawSocket()];
    io.engine.emit('connection', a);
    io.engine.emit('connection', b);
    for (const event of ['packetCreate', 'packet', 'close']) {
      expect(a.listeners(event).at(-1)).toBe(b.listeners(event).at(-1));
    }
    expect(a.listenerCount('packet')).toBe(1);
    expect(a.listenerCount('packetCreate')).toBe(1);
  });

  it("tallies into an AdminEventBuffer that the Admin UI's collection reads", () => {
    expect(io._eventBuffer).toBeInstanceOf(AdminEventBuffer);
  });

  it('counts what the Admin UI counts: connections, packets and bytes in and out, disconnections', () => {
    const socket = rawSocket();
    io.engine.emit('connection', socket);
    socket.emit('packet', { type: 'message', data: 'abc' });
    socket.emit('packetCreate', { type: 'message', data: 'héllo' });
    socket.emit('packetCreate', { type: 'ping' });
    socket.emit('close', 'transport close');
    expect(events()).toEqual(
      expect.arrayContaining([
        { type: 'rawConnection', subType: undefined, count: 1 },
        { type: 'packetsIn', subType: undefined, count: 1 },
        { type: 'bytesIn', subType: undefined, count: 3 },
        { type: 'packetsOut', subType: undefined, count: 1 },
        { type: 'bytesOut', subType: undefined, count: 6 },
        { type: 'rawDisconnection', subType: 'transport close', count: 1 },
      ]),
    );
  });

  it('counts polling clients until they upgrade or close', () => {
    const [upgrades, closes] = [rawSocket('polling'), rawSocket('polling')];
    io.engine.emit('connection', upgrades);
    io.engine.emit('connection', closes);
    expect(io._pollingClientsCount).toBe(2);
    upgrades.emit('upgrade');
    upgrades.emit('close', 'transport close');
    closes.emit('close', 'transport close');
    expect(io._pollingClientsCount).toBe(0);
  });
});
