// Starts what the scenarios measure, each as its own process on free loopback ports: Redis,
// FerretDB, the three services from dist/, and the baselines (plain Fastify, nginx, Fastify +
// native mongodb, raw socket.io). Everything started here is stopped by stopAll().
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startProcess, waitHttpOk, waitPort, waitUntil } from './procs.mjs';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const MEMPROBE = join(ROOT, 'bench', 'workers', 'memprobe.cjs');
const BASELINES = join(ROOT, 'bench', 'baselines');

export const SECRETS = {
  JWT_SECRET: 'bench-only-jwt-secret-0123456789abcdef0123456789',
  JWT_ISSUER: 'downstream-auth',
  JWT_AUDIENCE: 'downstream',
  AUTH_CLIENTS: 'bench:bench-secret',
  ADMIN_UI_USERNAME: 'bench',
  ADMIN_UI_PASSWORD: 'bench-admin-password',
};

export const scratch = mkdtempSync(join(tmpdir(), 'downstream-bench-'));
export function cleanScratch() {
  rmSync(scratch, { recursive: true, force: true });
}

/**
 * The bench runs the services from its own build (bench/.dist/<run>/, same SWC command as
 * scripts/build.mjs) so that another process rebuilding dist/ mid-run cannot pull the code away.
 */
let distDir = join(ROOT, 'dist');

/**
 * Builds the services of the source tree `source` (apps/, libs/ and .swcrc) into `out` with the
 * same SWC command as scripts/build.mjs, the gateway's static pages included. `out` must lie inside
 * the repository, so that the built code finds node_modules.
 */
export function buildServices(source, out) {
  rmSync(out, { recursive: true, force: true });
  const result = spawnSync(
    join(ROOT, 'node_modules', '.bin', 'swc'),
    ['apps', 'libs', '-d', out, '--config-file', '.swcrc', '--ignore', '**/*.spec.ts,**/test/**,libs/testing/**', '--quiet'],
    { cwd: source, stdio: 'inherit' },
  );
  if (result.status !== 0) {
    throw new Error(`swc failed to build the services of ${source} (see above)`);
  }
  const assets = join(source, 'apps', 'event-gateway', 'src', 'public');
  if (existsSync(assets)) {
    cpSync(assets, join(out, 'apps', 'event-gateway', 'src', 'public'), { recursive: true });
  }
  return out;
}

export function buildPrivateDist() {
  distDir = buildServices(ROOT, join(ROOT, 'bench', '.dist', `run-${process.pid}`));
  return distDir;
}
export function removePrivateDist() {
  if (distDir.includes(join('bench', '.dist'))) {
    rmSync(distDir, { recursive: true, force: true });
  }
}

export async function startRedis() {
  const port = await freePort();
  const dir = join(scratch, `redis-${port}`);
  mkdirSync(dir, { recursive: true });
  const handle = startProcess('redis', 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--loglevel', 'warning', '--maxclients', '20000',
  ]);
  await waitPort(handle, port);
  return { ...handle, url: `redis://127.0.0.1:${port}`, port, stop: handle.stop };
}

export async function startFerretDb() {
  const bin =
    process.env.FERRETDB_BIN && existsSync(process.env.FERRETDB_BIN)
      ? process.env.FERRETDB_BIN
      : execFileSync('bash', [join(ROOT, 'scripts', 'ensure-ferretdb.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const port = await freePort();
  const dir = join(scratch, `ferretdb-${port}`);
  mkdirSync(dir, { recursive: true });
  // SQLite in WAL mode with synchronous=NORMAL: a commit is durable across a crash of FerretDB,
  // and reaches the disk at checkpoints rather than by an fsync per write — about what MongoDB's
  // default does (its journal is flushed every 100 ms). Both sides of every scenario share it.
  const handle = startProcess('ferretdb', bin, [
    '--handler=sqlite', `--sqlite-url=file:${dir}/?_pragma=synchronous(normal)`, `--listen-addr=127.0.0.1:${port}`,
    '--state-dir=-', '--debug-addr=-', '--telemetry=disable', '--log-level=warn',
  ]);
  await waitPort(handle, port);
  return { ...handle, url: `mongodb://127.0.0.1:${port}`, port, stop: handle.stop };
}

function nodeArgs(options) {
  const args = ['--expose-gc', '-r', MEMPROBE];
  if (options.profile) {
    const dir = join(options.profileDir, options.name);
    mkdirSync(dir, { recursive: true });
    args.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  return args;
}

/**
 * A service from dist/ as production runs it (NODE_ENV=production, LOG_LEVEL=info), stdout kept
 * in memory only. `env` adds MONGODB_URI, EVENT_API_URL and so on; `options.dist` runs another build
 * (`buildServices`) instead of the bench's own.
 */
export async function startService(name, env, options = {}) {
  const port = await freePort();
  const main = join(options.dist ?? distDir, 'apps', name, 'src', 'main.js');
  if (!existsSync(main)) {
    throw new Error(`${main} is missing: the build did not produce ${name}`);
  }
  const handle = startProcess(name, process.execPath, [...nodeArgs({ ...options, name }), main], {
    ipc: true,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...SECRETS,
      ...env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttpOk(handle, `${url}/health/ready`, 90_000);
  return { ...handle, name, url, port, pid: handle.pid, stop: handle.stop, memory: () => memory(handle), snapshot: (path) => snapshot(handle, path) };
}

/** A baseline server from bench/baselines/<file> (plain Node ESM), configured by env. */
export async function startBaseline(file, env, options = {}) {
  const port = await freePort();
  const handle = startProcess(file, process.execPath, [...nodeArgs({ ...options, name: file.replace(/\.mjs$/, '') }), join(BASELINES, file)], {
    ipc: true,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', PORT: String(port), ...SECRETS, ...env },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttpOk(handle, `${url}/ready`, 60_000);
  return { ...handle, name: file, url, port, pid: handle.pid, stop: handle.stop, memory: () => memory(handle), snapshot: (path) => snapshot(handle, path) };
}

let memSeq = 0;
/** process.memoryUsage() of a server after a full GC (via the preloaded memprobe). */
function memory(handle) {
  return probe(handle, { cmd: 'mem' }).then((m) => m.mem);
}

/** Writes a heap snapshot of a server (via the preloaded memprobe); resolves with the file. */
function snapshot(handle, path) {
  return probe(handle, { cmd: 'snapshot', path }, 300_000).then((m) => m.file);
}

function probe(handle, command, timeoutMs = 30_000) {
  return new Promise((resolveMem, reject) => {
    const id = `probe-${++memSeq}`;
    const timer = setTimeout(() => {
      handle.child.off('message', listener);
      reject(new Error(`${handle.name} did not answer the memory probe`));
    }, timeoutMs);
    const listener = (message) => {
      if (message?.id === id) {
        clearTimeout(timer);
        handle.child.off('message', listener);
        resolveMem(message);
      }
    };
    handle.child.on('message', listener);
    handle.child.send({ ...command, id });
  });
}

/** nginx answering `return 200` on every path, one worker process (like the one-core Node servers). */
export async function startNginx() {
  const port = await freePort();
  const dir = join(scratch, `nginx-${port}`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    location / { return 200 'ok'; }
  }
}
`,
  );
  const handle = startProcess('nginx', '/usr/sbin/nginx', ['-c', conf, '-p', dir, '-e', `${dir}/logs/error.log`]);
  await waitPort(handle, port);
  // The worker answers the requests: its CPU is the server's (the master's stays at zero).
  const worker = await waitUntil(() => Number(readFileSync(`/proc/${handle.pid}/task/${handle.pid}/children`, 'utf8').trim().split(' ')[0]), {
    timeoutMs: 10_000, intervalMs: 20, description: 'the nginx worker process',
  });
  return { ...handle, name: 'nginx', url: `http://127.0.0.1:${port}`, port, pid: worker, stop: handle.stop };
}

/** POST /auth/token for many users with bounded concurrency; returns [{ user, token }]. */
export async function issueTokens(authUrl, users, concurrency = 16) {
  const basic = Buffer.from(SECRETS.AUTH_CLIENTS.split(',')[0]).toString('base64');
  const out = new Array(users.length);
  let index = 0;
  async function lane() {
    while (index < users.length) {
      const i = index++;
      const response = await fetch(`${authUrl}/auth/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sub: users[i], expires_in: 3600 }),
      });
      const body = await response.json();
      if (response.status !== 201 || !body.access_token) {
        throw new Error(`POST /auth/token answered ${response.status}: ${JSON.stringify(body).slice(0, 200)}`);
      }
      out[i] = { user: users[i], token: body.access_token };
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  return out;
}
