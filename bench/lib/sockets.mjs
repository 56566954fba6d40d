// Controls a pool of socket client processes (bench/workers/socket-worker.mjs): connects N sockets
// spread over the processes, resets and collects their arrival records, disconnects.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { IpcRequests } from './procs.mjs';

const WORKER = fileURLToPath(new URL('../workers/socket-worker.mjs', import.meta.url));

/** How the reports name a client kind. */
export function clientKind(client) {
  return client === 'socket.io-client' ? 'socket.io-client' : 'lean wire-level clients: ws with engine.io-parser and socket.io-parser, bench/lib/wire-client.mjs';
}

export class SocketPool {
  /** processes: client processes; client: 'wire' (bench/lib/wire-client.mjs) or 'socket.io-client'. */
  constructor(processes, { client = 'wire' } = {}) {
    this.client = client;
    this.workers = Array.from({ length: processes }, () => {
      const child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=2048'] });
      return { child, requests: new IpcRequests(child, 'socket worker') };
    });
  }

  get pids() {
    return this.workers.map((w) => w.child.pid);
  }

  call(worker, message, timeoutMs = 300_000) {
    return worker.requests.request(message, timeoutMs);
  }

  all(message, timeoutMs) {
    return Promise.all(this.workers.map((w) => this.call(w, message, timeoutMs)));
  }

  /** clients: [{ user, token }], dealt round-robin over the processes. */
  async connect(url, clients, { concurrency = 25 } = {}) {
    const shares = this.workers.map(() => []);
    clients.forEach((client, i) => shares[i % shares.length].push(client));
    const replies = await Promise.all(
      this.workers.map((w, i) => this.call(w, { cmd: 'connect', url, clients: shares[i], client: this.client, concurrency })),
    );
    const failures = {};
    for (const reply of replies) {
      for (const [message, count] of Object.entries(reply.failures)) {
        failures[message] = (failures[message] ?? 0) + count;
      }
    }
    return {
      connected: replies.reduce((sum, r) => sum + r.connected, 0),
      failures,
      ms: Math.max(...replies.map((r) => r.ms)),
    };
  }

  reset() {
    return this.all({ cmd: 'reset' });
  }

  async collect() {
    const replies = await this.all({ cmd: 'collect' });
    const perEvent = new Map();
    for (const reply of replies) {
      for (const [id, entry] of reply.perEvent) {
        const merged = perEvent.get(id);
        if (merged) {
          merged.n += entry.n;
          merged.first = Math.min(merged.first, entry.first);
          merged.last = Math.max(merged.last, entry.last);
        } else {
          perEvent.set(id, { ...entry });
        }
      }
    }
    return {
      received: replies.reduce((s, r) => s + r.received, 0),
      firstAt: Math.min(...replies.map((r) => r.firstAt ?? Infinity)),
      lastAt: Math.max(...replies.map((r) => r.lastAt ?? 0)),
      duplicates: replies.reduce((s, r) => s + r.duplicates, 0),
      latencies: replies.flatMap((r) => r.latencies),
      todoArrivals: replies.flatMap((r) => r.todoArrivals),
      perEvent,
      open: replies.reduce((s, r) => s + r.open, 0),
      cpu: replies.map((r) => r.cpu),
    };
  }

  /** Events received since the last reset (cheap: no arrays). */
  async count() {
    const replies = await this.all({ cmd: 'count' });
    return { received: replies.reduce((s, r) => s + r.received, 0), lastAt: Math.max(...replies.map((r) => r.lastAt)) };
  }

  /** Waits until `expected` events arrived, or nothing new arrived for `quietMs`, or `timeoutMs`. */
  async settle(expected, { timeoutMs = 15_000, quietMs = 1_500 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last = -1;
    let lastChange = Date.now();
    for (;;) {
      const { received } = await this.count();
      if (received >= expected) {
        return received;
      }
      if (received !== last) {
        last = received;
        lastChange = Date.now();
      }
      if (Date.now() - lastChange > quietMs || Date.now() > deadline) {
        return received;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  disconnect() {
    return this.all({ cmd: 'disconnect' });
  }

  async close() {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise((resolve) => {
            if (w.child.exitCode !== null) {
              resolve();
              return;
            }
            w.child.once('exit', resolve);
            w.child.kill('SIGTERM');
          }),
      ),
    );
  }
}
