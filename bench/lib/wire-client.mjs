// A lean wire-level Socket.IO client for the load side of the bench: one `ws` WebSocket per socket
// speaking Engine.IO 4 and Socket.IO 5 through their own parsers (engine.io-parser,
// socket.io-parser), without socket.io-client's Manager, its packet buffers, timers and event
// layers. It does what the bench's clients need and nothing more: connect to the default namespace
// with an auth payload, answer pings, hand each event to its listener with an ack function, close.
// socket.io-client stays available (`--client=socket.io-client`) to compare the two.
import { EventEmitter } from 'node:events';
import { decodePacket } from 'engine.io-parser';
import { Decoder, Encoder, PacketType } from 'socket.io-parser';
import WebSocket from 'ws';

const encoder = new Encoder();

/** The Engine.IO message frame ('4') around one Socket.IO packet that encodes to a single string. */
function frame(packet) {
  const [encoded] = encoder.encode(packet);
  return `4${encoded}`;
}

export class WireSocket extends EventEmitter {
  /**
   * url: the server's http(s) origin; options: { auth, timeout (ms until connected), path }.
   * Emits 'connect', 'connect_error' (Error with the server's message) and each event by name.
   */
  constructor(url, { auth = {}, timeout = 20_000, path = '/socket.io/' } = {}) {
    super();
    this.auth = auth;
    this.connected = false;
    this.decoder = new Decoder();
    this.decoder.on('decoded', (packet) => this.onPacket(packet));
    const target = new URL(path, url);
    target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
    target.search = '?EIO=4&transport=websocket';
    this.timer = setTimeout(() => this.fail(new Error('timeout')), timeout);
    this.ws = new WebSocket(target, { perMessageDeflate: false, skipUTF8Validation: true });
    this.ws.on('message', (data) => this.onFrame(data.toString()));
    this.ws.on('error', (error) => this.fail(error));
    this.ws.on('close', () => {
      if (this.connected) {
        this.connected = false;
        this.emit('disconnect');
      } else {
        this.fail(new Error('websocket closed'));
      }
    });
  }

  onFrame(text) {
    const packet = decodePacket(text);
    switch (packet.type) {
      case 'open':
        this.ws.send(frame({ type: PacketType.CONNECT, nsp: '/', data: this.auth }));
        break;
      case 'ping':
        this.ws.send('3');
        break;
      case 'message':
        this.decoder.add(packet.data);
        break;
      case 'close':
        this.ws.close();
        break;
      default:
        break;
    }
  }

  onPacket(packet) {
    switch (packet.type) {
      case PacketType.CONNECT:
        clearTimeout(this.timer);
        this.connected = true;
        this.emit('connect');
        break;
      case PacketType.CONNECT_ERROR:
        this.fail(new Error(packet.data?.message ?? 'connect_error'));
        break;
      case PacketType.EVENT: {
        const [name, ...args] = packet.data;
        if (packet.id !== undefined) {
          args.push(() => this.ws.send(frame({ type: PacketType.ACK, nsp: '/', id: packet.id, data: [] })));
        }
        this.emit(name, ...args);
        break;
      }
      case PacketType.DISCONNECT:
        this.ws.close();
        break;
      default:
        break;
    }
  }

  fail(error) {
    clearTimeout(this.timer);
    if (this.failed || this.connected) {
      return;
    }
    this.failed = true;
    this.emit('connect_error', error);
    this.close();
  }

  close() {
    clearTimeout(this.timer);
    this.connected = false;
    if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(frame({ type: PacketType.DISCONNECT, nsp: '/' }));
    }
    this.ws.close();
  }
}
