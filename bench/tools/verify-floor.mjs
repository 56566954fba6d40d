#!/usr/bin/env node
// What the obligations of `/auth/verify` cost on their own, with no auth logic: server CPU per
// request of plain Fastify answering `200 ok`, then of the same server with the obligations added one
// set at a time (bench/tools/obligations-server.mjs), and of the auth-service itself (valid token,
// cache warm). Every server gets the same fixed number of requests from autocannon (16 connections)
// in turn, A B C … per round; CPU is read from /proc. Prints the median µs per request and the
// throughput ratio it implies against plain Fastify (same CPU per request → same ratio).
//   node bench/tools/verify-floor.mjs [--rounds=5] [--requests=40000]
import { join } from 'node:path';
import { httpLoad } from '../lib/http-load.mjs';
import { freePort, processCpuSeconds, startProcess, stopAll, waitHttpOk } from '../lib/procs.mjs';
import { buildPrivateDist, cleanScratch, issueTokens, removePrivateDist, ROOT, startRedis, startService } from '../lib/stack.mjs';
import { median } from '../lib/stats.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=')));
const rounds = Number(args.rounds ?? 5);
const requests = Number(args.requests ?? 40_000);
const VARIANTS = ['', 'headers', 'headers+hook', 'headers+hook+log', 'headers+hook+log+als', 'early+log+als', 'early+als'];

async function obligations(features) {
  const port = await freePort();
  const handle = startProcess(`obligations-${features || 'plain'}`, process.execPath, [join(ROOT, 'bench', 'tools', 'obligations-server.mjs')], {
    env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: String(port), FEATURES: features },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttpOk(handle, `${url}/ready`);
  return { label: features ? `Fastify + ${features}` : 'plain Fastify 200', url, pid: handle.pid, headers: {} };
}

try {
  buildPrivateDist();
  const redis = await startRedis();
  const auth = await startService('auth-service', { REDIS_URL: redis.url });
  const [{ token }] = await issueTokens(auth.url, ['bench-verify-user']);
  const targets = [];
  for (const features of VARIANTS) {
    targets.push(await obligations(features));
  }
  targets.push({ label: 'auth-service /auth/verify (valid token)', url: auth.url, pid: auth.pid, headers: { authorization: `Bearer ${token}` } });
  const perRequest = targets.map(() => []);
  // Round 0 warms every server up and is not counted.
  for (let round = 0; round <= rounds; round += 1) {
    for (const [index, target] of targets.entries()) {
      const before = processCpuSeconds(target.pid);
      await httpLoad({ url: target.url, path: '/auth/verify', headers: target.headers, connections: 16, amount: requests, duration: 120 });
      if (round > 0) {
        perRequest[index].push(((processCpuSeconds(target.pid) - before) * 1e6) / requests);
      }
    }
    process.stderr.write(`round ${round}/${rounds} done\n`);
  }
  const plain = median(perRequest[0]);
  console.log(`| server | CPU µs per request (median of ${rounds}) | range | implied ratio to plain Fastify |`);
  console.log('|---|---|---|---|');
  for (const [index, target] of targets.entries()) {
    const values = perRequest[index];
    const us = median(values);
    console.log(`| ${target.label} | ${us.toFixed(1)} | ${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)} | ${(plain / us).toFixed(2)}× |`);
  }
} finally {
  await stopAll();
  removePrivateDist();
  cleanScratch();
}
