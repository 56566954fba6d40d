// Socket client process (forked with IPC). Holds many Socket.IO connections (the lean wire-level
// client of bench/lib/wire-client.mjs, or socket.io-client), acknowledges every `downstream` event at
// once, and records when each arrives on the machine-wide monotonic clock (the sender puts its send
// time `t` in the event data, or the parent joins by todoid).
import { io } from 'socket.io-client';
import { WireSocket } from '../lib/wire-client.mjs';

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
let sockets = [];
let latencies = [];
let perEvent = new Map(); // event id → { n, first, last, maxLatency }
let todoArrivals = [];
let received = 0;
let firstAt = Infinity;
let lastAt = 0;
let duplicates = 0;
const seen = new Set();
let cpu0 = process.cpuUsage();
let wall0 = nowMs();

function onEvent(payload, ack) {
  const at = nowMs();
  received += 1;
  firstAt = Math.min(firstAt, at);
  lastAt = Math.max(lastAt, at);
  const data = payload?.data;
  if (data && typeof data.t === 'number') {
    latencies.push(at - data.t);
  }
  if (data && typeof data.todoid === 'number') {
    todoArrivals.push([data.todoid, at]);
  }
  const key = `${this.benchUser}|${payload?.id}`;
  if (seen.has(key)) {
    duplicates += 1;
  } else if (seen.size < 2_000_000) {
    seen.add(key);
  }
  if (payload?.id && (data?.broadcast || data?.track)) {
    const entry = perEvent.get(payload.id) ?? { n: 0, first: at, last: at, sentAt: data.t };
    entry.n += 1;
    entry.last = Math.max(entry.last, at);
    entry.first = Math.min(entry.first, at);
    perEvent.set(payload.id, entry);
  }
  if (typeof ack === 'function') {
    ack();
  }
}

/** Opens one socket with the chosen client: 'wire' (default) or 'socket.io-client'. */
function open(kind, url, token, timeoutMs) {
  if (kind === 'socket.io-client') {
    return io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: timeoutMs });
  }
  return new WireSocket(url, { auth: { token }, timeout: timeoutMs });
}

async function connectAll({ url, clients, client: kind = 'wire', concurrency = 50, timeoutMs = 20_000 }) {
  let index = 0;
  let connected = 0;
  const failures = {};
  const t0 = nowMs();
  async function one(client) {
    const socket = open(kind, url, client.token, timeoutMs);
    socket.benchUser = client.user;
    socket.on('downstream', onEvent);
    await new Promise((resolve) => {
      socket.once('connect', () => {
        connected += 1;
        sockets.push(socket);
        resolve();
      });
      socket.once('connect_error', (error) => {
        failures[error.message] = (failures[error.message] ?? 0) + 1;
        socket.close();
        resolve();
      });
    });
  }
  async function lane() {
    while (index < clients.length) {
      const client = clients[index++];
      await one(client);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length) }, lane));
  return { connected, failures, ms: nowMs() - t0 };
}

function reset() {
  latencies = [];
  perEvent = new Map();
  todoArrivals = [];
  received = 0;
  firstAt = Infinity;
  lastAt = 0;
  duplicates = 0;
  seen.clear();
  cpu0 = process.cpuUsage();
  wall0 = nowMs();
}

function collect() {
  const cpu = process.cpuUsage(cpu0);
  const wall = nowMs() - wall0;
  return {
    received,
    firstAt,
    lastAt,
    duplicates,
    latencies,
    perEvent: [...perEvent.entries()],
    todoArrivals,
    open: sockets.filter((s) => s.connected).length,
    cpu: (cpu.user + cpu.system) / 1000 / wall,
  };
}

process.on('message', async (message) => {
  const reply = (body) => process.send({ id: message.id, ...body });
  try {
    switch (message.cmd) {
      case 'connect':
        reply(await connectAll(message));
        break;
      case 'reset':
        reset();
        reply({});
        break;
      case 'count':
        reply({ received, lastAt });
        break;
      case 'collect':
        reply(collect());
        break;
      case 'disconnect':
        for (const socket of sockets) {
          socket.close();
        }
        sockets = [];
        reply({});
        break;
      case 'exit':
        reply({});
        process.exit(0);
        break;
      default:
        reply({ error: `unknown command ${message.cmd}` });
    }
  } catch (error) {
    reply({ error: error.message });
  }
});
process.on('disconnect', () => process.exit(0));
