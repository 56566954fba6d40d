// Process plumbing for the bench: free ports, spawning servers with captured output, waiting for
// readiness, per-process CPU from /proc, and stopping only the processes the bench started.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createServer, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const started = new Set();

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls `probe` until it returns truthy; throws after `timeoutMs` with `description`. */
export async function waitUntil(probe, { timeoutMs = 30_000, intervalMs = 100, description = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value) {
        return value;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${lastError ? `: ${lastError.message}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * Spawns a long-running server process. Output is kept (last 8 KB) for error messages.
 * `ipc: true` opens an IPC channel (used by the memory probe).
 */
export function startProcess(name, command, args, { env = process.env, ipc = false, cwd, logFile } = {}) {
  // Output goes to a file, as a container runtime would take it: a pipe read by this (busy)
  // controller would fill up and make pino's synchronous stdout writes wait (atomic-sleep).
  const log = logFile ?? join(mkdtempSync(join(tmpdir(), 'downstream-bench-log-')), `${name}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(command, args, {
    env,
    cwd,
    stdio: ipc ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd],
  });
  closeSync(fd);
  let extra = '';
  const output = () => {
    try {
      const size = statSync(log).size;
      const length = Math.min(size, 8_000);
      const buffer = Buffer.alloc(length);
      const readFd = openSync(log, 'r');
      readSync(readFd, buffer, 0, length, size - length);
      closeSync(readFd);
      return buffer.toString() + extra;
    } catch {
      return extra;
    }
  };
  const keep = (text) => {
    extra += text;
  };
  const handle = {
    name,
    child,
    get pid() {
      return child.pid;
    },
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    output,
    logFile: log,
    async stop(graceMs = 15_000) {
      started.delete(handle);
      if (handle.exited) {
        rmSync(dirname(log), { recursive: true, force: true });
        return;
      }
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
      if (!logFile) {
        rmSync(dirname(log), { recursive: true, force: true });
      }
    },
  };
  child.once('error', (error) => keep(`spawn error: ${error.message}\n`));
  started.add(handle);
  return handle;
}

export async function waitPort(handle, port, timeoutMs = 30_000) {
  await waitUntil(
    async () => {
      if (handle.exited) {
        throw new Error(`${handle.name} exited: ${handle.output().slice(-2_000)}`);
      }
      return portOpen(port);
    },
    { timeoutMs, description: `${handle.name} to listen on ${port}` },
  );
}

export async function waitHttpOk(handle, url, timeoutMs = 60_000) {
  await waitUntil(
    async () => {
      if (handle.exited) {
        throw new Error(`${handle.name} exited: ${handle.output().slice(-3_000)}`);
      }
      const response = await fetch(url);
      await response.arrayBuffer();
      return response.ok;
    },
    { timeoutMs, intervalMs: 200, description: `${url} to answer 200` },
  );
}

/** Stops every process the bench started (reverse order of start). */
export async function stopAll() {
  const handles = [...started].reverse();
  for (const handle of handles) {
    await handle.stop().catch(() => undefined);
  }
}

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return NaN;
  }
}

/** Resident set size in bytes, from /proc/<pid>/status. */
export function processRss(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Measures the CPU a set of pids uses during `fn`, as cores (CPU seconds / wall seconds). */
export async function withCpu(pids, fn) {
  const before = pids.map(processCpuSeconds);
  const t0 = performance.now();
  const result = await fn();
  const wall = (performance.now() - t0) / 1000;
  const cores = pids.map((pid, index) => (processCpuSeconds(pid) - before[index]) / wall);
  return { result, cores, wall };
}

/**
 * Requests to a child process over its IPC channel, each answered by one message carrying the same
 * `id` (and `error` when it failed). A request not answered within its time rejects (after
 * `onTimeout`, if given); the child's exit rejects every request still waiting (with
 * `exitDetail()` appended, e.g. the tail of its log).
 */
export class IpcRequests {
  constructor(child, name, { exitDetail } = {}) {
    this.child = child;
    this.name = name;
    this.pending = new Map();
    this.seq = 0;
    child.on('message', (msg) => this.pending.get(msg.id)?.(msg));
    child.on('exit', () => {
      for (const settle of this.pending.values()) {
        settle({ error: `exited${exitDetail ? `: ${exitDetail()}` : ''}` });
      }
    });
  }

  /** Sends `message` with a fresh id; resolves with the answer (its `id` included). */
  request(message, timeoutMs, { onTimeout } = {}) {
    return new Promise((resolve, reject) => {
      const id = ++this.seq;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        onTimeout?.();
        reject(new Error(`${this.name} did not answer ${message.cmd ?? 'a request'} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (msg) => {
        clearTimeout(timer);
        this.pending.delete(id);
        if (msg.error) {
          reject(new Error(`${this.name}: ${msg.error}`));
        } else {
          resolve(msg);
        }
      });
      this.child.send({ ...message, id });
    });
  }
}
