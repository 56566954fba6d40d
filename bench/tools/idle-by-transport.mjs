#!/usr/bin/env node
// Heap and RSS per idle socket of one event-gateway process, by how the clients connect: a browser's
// default (HTTP long-polling first, then the upgrade to WebSocket) and WebSocket only (the transport
// of the idle scenario). Each build and transport gets a fresh gateway; memory is read after a full
// GC before and after connecting the sockets (socket.io-client, in this process). Builds: the
// working tree, and each `--ref` (a git revision, built the same way) to compare with.
//   node bench/tools/idle-by-transport.mjs [--sockets=1000] [--rounds=1] [--ref=<rev>]...
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { freePort, startProcess, stopAll, waitHttpOk } from '../lib/procs.mjs';
import { buildPrivateDist, cleanScratch, issueTokens, removePrivateDist, ROOT, scratch, SECRETS, startRedis, startService } from '../lib/stack.mjs';

const args = process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('='));
const option = (name, fallback) => Number(args.find(([key]) => key === name)?.[1] ?? fallback);
const sockets = option('sockets', 1_000);
const rounds = option('rounds', 1);
const refs = args.filter(([key]) => key === 'ref').map(([, value]) => value);
const TRANSPORTS = [['polling', 'websocket'], ['websocket']];
const MEMPROBE = join(ROOT, 'bench', 'workers', 'memprobe.cjs');
const KB = 1024;

/** Builds revision `ref` under bench/.dist (inside the repository, so that node_modules resolve). */
function buildRef(ref) {
  const source = join(scratch, `src-${ref}`);
  const out = join(ROOT, 'bench', '.dist', `ref-${ref.replace(/[^\w.-]/g, '_')}`);
  mkdirSync(source, { recursive: true });
  execFileSync('bash', ['-c', `git archive "${ref}" apps libs .swcrc | tar -x -C "${source}"`], { cwd: ROOT, stdio: 'inherit' });
  rmSync(out, { recursive: true, force: true });
  const swc = spawnSync(join(ROOT, 'node_modules', '.bin', 'swc'), ['apps', 'libs', '-d', out, '--config-file', '.swcrc', '--ignore', '**/*.spec.ts,**/test/**,libs/testing/**', '--quiet'], { cwd: source, stdio: 'inherit' });
  if (swc.status !== 0) {
    throw new Error(`swc could not build ${ref}`);
  }
  const assets = join(source, 'apps', 'event-gateway', 'src', 'public');
  if (existsSync(assets)) {
    cpSync(assets, join(out, 'apps', 'event-gateway', 'src', 'public'), { recursive: true });
  }
  return out;
}

let probes = 0;
function memory(handle) {
  return new Promise((resolve) => {
    const id = `mem-${++probes}`;
    const listener = (message) => {
      if (message?.id === id) {
        handle.child.off('message', listener);
        resolve(message.mem);
      }
    };
    handle.child.on('message', listener);
    handle.child.send({ cmd: 'mem', id });
  });
}

async function startGateway(dist, redisUrl) {
  const port = await freePort();
  const handle = startProcess('event-gateway', process.execPath, ['--expose-gc', '-r', MEMPROBE, join(dist, 'apps', 'event-gateway', 'src', 'main.js')], {
    ipc: true,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: String(port), ...SECRETS, REDIS_URL: redisUrl },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttpOk(handle, `${url}/health/ready`, 90_000);
  return { handle, url };
}

/** Connects one client per token; resolves once each is connected on its final transport. */
async function connectAll(url, tokens, transports) {
  const clients = [];
  for (let i = 0; i < tokens.length; i += 50) {
    await Promise.all(
      tokens.slice(i, i + 50).map(
        (token) =>
          new Promise((resolve, reject) => {
            const client = io(url, { auth: { token }, transports, forceNew: true, reconnection: false });
            clients.push(client);
            client.once('connect_error', reject);
            client.once('connect', () => {
              const engine = client.io.engine;
              if (engine.transport.name === transports.at(-1)) {
                resolve();
              } else {
                engine.once('upgrade', () => resolve());
              }
            });
          }),
      ),
    );
  }
  return clients;
}

const builds = [];
try {
  builds.push({ label: 'working tree', dist: buildPrivateDist() }, ...refs.map((ref) => ({ label: ref, dist: buildRef(ref), ref: true })));
  const redis = await startRedis();
  const auth = await startService('auth-service', { REDIS_URL: redis.url });
  const tokens = (await issueTokens(auth.url, Array.from({ length: sockets }, (_, i) => `idle-${i}`))).map((c) => c.token);
  console.log(`${sockets} idle sockets per gateway, heap and RSS per socket (after a full GC)`);
  for (let round = 1; round <= rounds; round += 1) {
    for (const transports of TRANSPORTS) {
      for (const build of builds) {
        const gateway = await startGateway(build.dist, redis.url);
        const before = await memory(gateway.handle);
        const clients = await connectAll(gateway.url, tokens, transports);
        const after = await memory(gateway.handle);
        const heap = (after.heapUsed - before.heapUsed) / sockets / KB;
        const rss = (after.rss - before.rss) / sockets / KB;
        console.log(`round ${round}  ${transports.join(' → ').padEnd(20)} ${build.label.padEnd(14)} heap ${heap.toFixed(2)} KB, RSS ${rss.toFixed(2)} KB`);
        clients.forEach((client) => client.close());
        await gateway.handle.stop();
      }
    }
  }
} finally {
  await stopAll();
  removePrivateDist();
  builds.filter((build) => build.ref).forEach((build) => rmSync(build.dist, { recursive: true, force: true }));
  cleanScratch();
}
