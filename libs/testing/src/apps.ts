import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { register } from 'prom-client';
import type { CommonConfig } from '@app/config';
import { createApp, type ServiceDefinition } from '@app/http';
import { freePort } from './ports';
import { REPO_ROOT } from './servers';
import { waitFor } from './wait';

export type ServiceName = 'todo-service' | 'event-gateway' | 'auth-service';

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Builds a service in this process exactly as `main.ts` does (same module, pipes, filters) and
 * listens on a free loopback port. `env` is read like process.env.
 */
export async function startTestApp<C extends CommonConfig>(
  definition: ServiceDefinition<C>,
  env: Record<string, string | undefined>,
): Promise<TestApp> {
  const config = definition.loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', ...env });
  // Metrics live in prom-client's global registry; a second app in one process registers them again.
  register.clear();
  const app = await createApp(definition.module(config), definition);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    app,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => app.close(),
  };
}

export interface ServiceProcess {
  name: ServiceName;
  url: string;
  port: number;
  readonly pid: number | undefined;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Starts the process (again), and waits until `/health/live` answers. */
  start(): Promise<void>;
  /** Sends `signal` (SIGTERM by default) and waits for the exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function distEntry(name: ServiceName): string {
  const entry = join(REPO_ROOT, 'dist', 'apps', name, 'src', 'main.js');
  if (!existsSync(entry)) {
    throw new Error(`${entry} is missing: run 'npm run build' (npm test does it first)`);
  }
  return entry;
}

/** Runs a service as its own Node process from `dist/`, as production does. */
export async function spawnService(
  name: ServiceName,
  env: Record<string, string | undefined>,
  options: { port?: number; waitReady?: boolean } = {},
): Promise<ServiceProcess> {
  const port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let output = '';
  let exit: Promise<number | null> = Promise.resolve(null);
  const url = `http://127.0.0.1:${port}`;

  const start = async (): Promise<void> => {
    const proc = spawn(process.execPath, [distEntry(name)], {
      env: { PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: 'info', HOST: '127.0.0.1', ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    exit = new Promise((resolveExit) => proc.once('exit', (code) => resolveExit(code)));
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(
      async () => {
        if (proc.exitCode !== null) {
          throw new Error(`${name} exited with ${proc.exitCode}:\n${output.slice(-3_000)}`);
        }
        const response = await fetch(`${url}/health/${options.waitReady ? 'ready' : 'live'}`);
        return response.ok;
      },
      { timeoutMs: 30_000, description: `${name} on port ${port}` },
    );
  };

  await start();
  return {
    name,
    url,
    port,
    get pid() {
      return child?.pid;
    },
    output: () => output,
    start,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
      }
      return exit;
    },
  };
}

/** Runs a service entry point to completion (for start-up failures); resolves with code and output. */
export function runServiceToExit(
  name: ServiceName,
  env: Record<string, string | undefined>,
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const proc = spawn(process.execPath, [distEntry(name)], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} did not exit within ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}
