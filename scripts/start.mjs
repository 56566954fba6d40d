#!/usr/bin/env node
// `npm start`: the whole local stack in the foreground. Installs what it lacks (node modules,
// redis-server, nginx, FerretDB), then runs the MongoDB-protocol server, Redis, the three services
// and the local ingress (nginx) on 8080. Crashed processes restart with backoff; Ctrl-C stops all.
// Environment variables given by the caller pass through to the services.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT, build, ensureCommands, ensureFerretDb, ensureNodeModules, log, printSummary, step } from './lib/steps.mjs';
import { Supervised } from './lib/supervisor.mjs';

const env = process.env;
const port = (name, fallback) => Number(env[name] ?? fallback);
const ports = {
  ingress: port('INGRESS_PORT', 8080),
  todo: port('TODO_PORT', 3000),
  gateway: port('GATEWAY_PORT', 3001),
  auth: port('AUTH_PORT', 3002),
  mongo: port('MONGO_PORT', 27017),
  redis: port('REDIS_PORT', 6379),
};
const dataDir = resolve(env.DOWNSTREAM_DATA_DIR ?? join(ROOT, '.data'));

// Development values, used only when the caller did not set them; printed below.
const DEV_DEFAULTS = {
  NODE_ENV: 'development',
  AUTH_CLIENTS: 'portal:portal-secret',
  JWT_SECRET: 'dev-only-jwt-secret-change-me-0123456789abcdef',
  JWT_ISSUER: 'downstream-auth',
  JWT_AUDIENCE: 'downstream',
  ADMIN_UI_USERNAME: 'admin',
  ADMIN_UI_PASSWORD: 'admin-dev-password',
  CORS_ORIGINS: `http://localhost:${ports.ingress},http://127.0.0.1:${ports.ingress},http://localhost:${ports.gateway},http://127.0.0.1:${ports.gateway}`,
};

const processes = [];
let shuttingDown = false;

async function shutdown(signal, code = 0) {
  if (shuttingDown) {
    return;
  }
  shuttingDown = true;
  log(`${signal}: stopping ${processes.length} processes …`);
  // Services first (they drain), then the ingress and the data stores.
  const order = ['todo-service', 'event-gateway', 'auth-service', 'ingress', 'redis', 'ferretdb'];
  for (const name of order) {
    const proc = processes.find((p) => p.name === name);
    if (proc) {
      await proc.stop();
    }
  }
  log('stopped everything');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

async function waitHttp(url, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) {
        return;
      }
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function waitPort(portNumber, timeoutMs = 60_000) {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise((r) => {
      const socket = connect({ port: portNumber, host: '127.0.0.1' });
      socket.once('connect', () => (socket.destroy(), r(true)));
      socket.once('error', () => r(false));
    });
    if (open) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`nothing listens on 127.0.0.1:${portNumber} after ${timeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function supervise(name, command, args, options) {
  const proc = new Supervised(name, command, args, options).start();
  processes.push(proc);
  return proc;
}

async function main() {
  await ensureNodeModules();
  await ensureCommands(['redis-server', 'nginx']);
  const ferretdb = env.MONGODB_URI ? undefined : await ensureFerretDb();
  await build();
  mkdirSync(dataDir, { recursive: true });

  const mongoUri = env.MONGODB_URI ?? `mongodb://127.0.0.1:${ports.mongo}/downstream`;
  const redisUrl = env.REDIS_URL ?? `redis://127.0.0.1:${ports.redis}`;
  const serviceEnv = {
    ...DEV_DEFAULTS,
    ...env,
    MONGODB_URI: mongoUri,
    REDIS_URL: redisUrl,
    EVENT_API_URL: env.EVENT_API_URL ?? `http://127.0.0.1:${ports.gateway}`,
  };

  await step('starting the data stores', async () => {
    if (ferretdb) {
      const dir = join(dataDir, 'mongo');
      mkdirSync(dir, { recursive: true });
      supervise('ferretdb', ferretdb, [
        '--handler=sqlite', `--sqlite-url=file:${dir}/`, `--listen-addr=127.0.0.1:${ports.mongo}`,
        '--state-dir=-', '--debug-addr=-', '--telemetry=disable', '--log-level=warn',
      ]);
      await waitPort(ports.mongo);
    }
    if (!env.REDIS_URL) {
      const dir = join(dataDir, 'redis');
      mkdirSync(dir, { recursive: true });
      supervise('redis', 'redis-server', [
        '--port', String(ports.redis), '--bind', '127.0.0.1', '--dir', dir,
        '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--loglevel', 'warning',
      ]);
      await waitPort(ports.redis);
    }
  }, { fix: `free the ports ${ports.mongo}/${ports.redis} (MONGO_PORT/REDIS_PORT choose others) or set MONGODB_URI/REDIS_URL` });

  await step('starting the services', async () => {
    const services = [
      ['auth-service', ports.auth],
      ['event-gateway', ports.gateway],
      ['todo-service', ports.todo],
    ];
    for (const [name, servicePort] of services) {
      supervise(name, process.execPath, [join(ROOT, 'dist', 'apps', name, 'src', 'main.js')], {
        env: { ...serviceEnv, PORT: String(servicePort), HOST: env.HOST ?? '127.0.0.1' },
      });
    }
    await Promise.all(services.map(([, servicePort]) => waitHttp(`http://127.0.0.1:${servicePort}/health/ready`)));
  }, { fix: 'read the service logs above; TODO_PORT/GATEWAY_PORT/AUTH_PORT choose other ports' });

  await step('starting the ingress (nginx)', async () => {
    const { renderIngress } = await import('./lib/ingress.mjs');
    const dir = join(dataDir, 'nginx');
    mkdirSync(dir, { recursive: true });
    const config = renderIngress({
      port: ports.ingress,
      todo: `127.0.0.1:${ports.todo}`,
      gateway: `127.0.0.1:${ports.gateway}`,
      auth: `127.0.0.1:${ports.auth}`,
      dir,
    });
    supervise('ingress', 'nginx', ['-c', config, '-p', dir, '-e', 'stderr']);
    await waitHttp(`http://127.0.0.1:${ports.ingress}/client`);
  }, { fix: `free port ${ports.ingress} or set INGRESS_PORT` });

  printSummary();
  const client = serviceEnv.AUTH_CLIENTS.split(',')[0];
  const base = `http://localhost:${ports.ingress}`;
  console.log(`
\x1b[1mDownstream is running.\x1b[0m Data: ${dataDir}   (Ctrl-C stops everything)

  Ingress            ${base}   (/todos with a Bearer token, /socket.io, /auth)
  Test client page   ${base}/client
  Socket.IO Admin UI http://localhost:${ports.gateway}/admin   (user ${serviceEnv.ADMIN_UI_USERNAME}, password ${env.ADMIN_UI_PASSWORD ? '<from ADMIN_UI_PASSWORD>' : serviceEnv.ADMIN_UI_PASSWORD})
  Swagger UI         http://localhost:${ports.todo}/api-docs   todo-service
                     http://localhost:${ports.gateway}/api-docs   event-gateway (Event API, internal)
                     http://localhost:${ports.auth}/api-docs   auth-service
  MongoDB protocol   ${mongoUri}
  Redis              ${redisUrl}

Get a token (development client ${env.AUTH_CLIENTS ? '<from AUTH_CLIENTS>' : client}):
  curl -s -u ${env.AUTH_CLIENTS ? '<id>:<secret>' : client} -H 'Content-Type: application/json' -d '{"sub":"test001"}' ${base}/auth/token
Then:
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"userid":"test001","content":{"title":"hello"}}' ${base}/todos
`);
  log('ready');
}

main().catch(async (error) => {
  printSummary();
  log(`could not start: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown('error', 1);
});
