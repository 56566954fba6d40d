#!/usr/bin/env node
// Heap and RSS per idle socket of one event-gateway process, by how the clients connect: a browser's
// default (HTTP long-polling first, then the upgrade to WebSocket) and WebSocket only (the transport
// of the idle scenario). Each build and transport gets a fresh gateway; memory is read after a full
// GC before and after connecting the sockets (socket.io-client, in this process). Builds: the
// working tree, and each `--ref` (a git revision, built the same way) to compare with.
//   node bench/tools/idle-by-transport.mjs [--sockets=1000] [--rounds=1] [--ref=<rev>]...
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { stopAll } from '../lib/procs.mjs';
import { buildPrivateDist, buildServices, cleanScratch, issueTokens, removePrivateDist, ROOT, scratch, startRedis, startService } from '../lib/stack.mjs';

const args = process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('='));
const option = (name, fallback) => Number(args.find(([key]) => key === name)?.[1] ?? fallback);
const sockets = option('sockets', 1_000);
const rounds = option('rounds', 1);
const refs = args.filter(([key]) => key === 'ref').map(([, value]) => value);
const TRANSPORTS = [['polling', 'websocket'], ['websocket']];
const KB = 1024;

/** Builds revision `ref` under bench/.dist (inside the repository, so that node_modules resolve). */
function buildRef(ref) {
  const source = join(scratch, `src-${ref}`);
  mkdirSync(source, { recursive: true });
  execFileSync('bash', ['-c', `git archive "${ref}" apps libs .swcrc | tar -x -C "${source}"`], { cwd: ROOT, stdio: 'inherit' });
  return buildServices(source, join(ROOT, 'bench', '.dist', `ref-${ref.replace(/[^\w.-]/g, '_')}`));
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
        const gateway = await startService('event-gateway', { REDIS_URL: redis.url }, { dist: build.dist });
        const before = await gateway.memory();
        const clients = await connectAll(gateway.url, tokens, transports);
        const after = await gateway.memory();
        const heap = (after.heapUsed - before.heapUsed) / sockets / KB;
        const rss = (after.rss - before.rss) / sockets / KB;
        console.log(`round ${round}  ${transports.join(' → ').padEnd(20)} ${build.label.padEnd(14)} heap ${heap.toFixed(2)} KB, RSS ${rss.toFixed(2)} KB`);
        clients.forEach((client) => client.close());
        await gateway.stop();
      }
    }
  }
} finally {
  await stopAll();
  removePrivateDist();
  builds.filter((build) => build.ref).forEach((build) => rmSync(build.dist, { recursive: true, force: true }));
  cleanScratch();
}
