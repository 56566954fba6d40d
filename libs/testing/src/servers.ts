import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './ports';
import { waitFor } from './wait';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

/** A server process the harness started; it can be stopped, killed and started again on the same port and data. */
export interface LocalServer {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly pid: number | undefined;
  /** Sends SIGTERM (or `signal`) and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the process again with the same port and data directory. */
  start(): Promise<void>;
  /** Stops the process and removes its data directory if the harness created it. */
  dispose(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolveOpen(true);
    });
    socket.once('error', () => resolveOpen(false));
  });
}

/**
 * Whether process `pid` holds the socket listening on 127.0.0.1:`port`, read from Linux's /proc;
 * `undefined` where /proc cannot tell. A port answering is not enough: a server started again on its
 * old port fails to bind if another process took the port meanwhile, and the port then answers for
 * that other process.
 */
export function ownsListener(pid: number, port: number): boolean | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const line of table.split('\n').slice(1)) {
    // sl, local_address, rem_address, st (0A: LISTEN), tx:rx queues, timer, retransmits, uid, timeout, inode
    const columns = line.trim().split(/\s+/);
    if (columns[1] === local && columns[3] === '0A') {
      inodes.add(`socket:[${columns[9]}]`);
    }
  }
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  return fds.some((fd) => {
    try {
      return inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      return false;
    }
  });
}

function waitExit(child: ChildProcess): Promise<void> {
  return new Promise((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolveExit();
      return;
    }
    child.once('exit', () => resolveExit());
  });
}

interface ProcessSpec {
  name: string;
  command: string;
  args: (port: number, dataDir: string) => string[];
  url: (port: number) => string;
  port?: number;
  dataDir?: string;
}

async function startProcessServer(spec: ProcessSpec): Promise<LocalServer> {
  const port = spec.port ?? (await freePort());
  const ownDir = spec.dataDir === undefined;
  const dataDir = spec.dataDir ?? mkdtempSync(join(tmpdir(), `downstream-${spec.name}-`));
  mkdirSync(dataDir, { recursive: true });
  let child: ChildProcess | undefined;
  let output = '';

  const start = async (): Promise<void> => {
    output = '';
    const proc = spawn(spec.command, spec.args(port, dataDir), { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4_000);
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4_000);
    });
    const state = await waitFor(
      async () => {
        if (proc.exitCode !== null) {
          return 'exited';
        }
        // Listening, and the listener is this process, not whoever else holds the port.
        return (await portOpen(port)) && ownsListener(proc.pid ?? -1, port) !== false
          ? 'listening'
          : undefined;
      },
      { timeoutMs: 30_000, description: `${spec.name} to listen on 127.0.0.1:${port}` },
    );
    if (state === 'exited') {
      // At once: a process that exited will not listen (polling on would only wait out the timeout).
      throw new Error(`${spec.name} exited with ${proc.exitCode}: ${output}`);
    }
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
      return;
    }
    proc.kill(signal);
    await waitExit(proc);
  };

  await start();
  return {
    name: spec.name,
    url: spec.url(port),
    port,
    dataDir,
    get pid() {
      return child?.pid;
    },
    stop,
    start,
    dispose: async () => {
      await stop('SIGKILL');
      if (ownDir) {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

export interface RedisServerOptions {
  port?: number;
  dataDir?: string;
  /** Append-only persistence, as the local stack and the chart configure it. */
  appendOnly?: boolean;
}

/** Starts Debian's `redis-server` on a free loopback port. */
export function startRedisServer(options: RedisServerOptions = {}): Promise<LocalServer> {
  return startProcessServer({
    name: 'redis',
    command: 'redis-server',
    port: options.port,
    dataDir: options.dataDir,
    args: (port, dir) => [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      options.appendOnly ? 'yes' : 'no',
      '--appendfsync',
      'everysec',
      '--protected-mode',
      'yes',
      '--loglevel',
      'warning',
    ],
    url: (port) => `redis://127.0.0.1:${port}`,
  });
}

/** Builds (once, cached) and returns the FerretDB binary. */
export function ferretDbBinary(): string {
  if (process.env.FERRETDB_BIN && existsSync(process.env.FERRETDB_BIN)) {
    return process.env.FERRETDB_BIN;
  }
  return execFileSync('bash', [join(REPO_ROOT, 'scripts', 'ensure-ferretdb.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

export interface FerretDbOptions {
  port?: number;
  dataDir?: string;
}

/** Starts FerretDB 1.x (MongoDB wire protocol, SQLite backend) on a free loopback port. */
export function startFerretDb(options: FerretDbOptions = {}): Promise<LocalServer> {
  const binary = ferretDbBinary();
  return startProcessServer({
    name: 'ferretdb',
    command: binary,
    port: options.port,
    dataDir: options.dataDir,
    args: (port, dir) => [
      '--handler=sqlite',
      `--sqlite-url=file:${dir}/`,
      `--listen-addr=127.0.0.1:${port}`,
      '--state-dir=-',
      '--debug-addr=-',
      '--telemetry=disable',
      '--log-level=error',
    ],
    url: (port) => `mongodb://127.0.0.1:${port}/`,
  });
}

/** Removes a directory tree, ignoring errors (test clean-up). */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
