#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench -- --profile`): self time
// per function and per package/file, top N. Usage: node bench/tools/cpuprofile-summary.mjs <file> [N]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i += 1) {
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
}
const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
const all = [...self.values()].reduce((a, b) => a + b, 0);
// Percentages of the busy time: idle samples are left out of the denominator.
const total = [...self].filter(([id]) => !idleIds.has(id)).reduce((a, [, us]) => a + us, 0);
const perFn = new Map();
const perPkg = new Map();
const CATEGORIES = [
  [/^(pino|pino-http|@pinojs\/redact|sonic-boom|nestjs-pino|atomic-sleep|pino-std-serializers|fast-redact|thread-stream)$/, 'logging (pino, pino-http, redact)'],
  [/^(helmet|@fastify\/helmet)$/, 'helmet'],
  [/^(@nestjs\/core|@nestjs\/common|@nestjs\/platform-fastify|@nestjs\/websockets|@nestjs\/platform-socket.io|rxjs|reflect-metadata|@fastify\/middie|class-validator|class-transformer)$/, 'Nest (core, middie, rxjs, validation)'],
  [/^(fastify|find-my-way|light-my-request|avvio|@fastify\/.*|fast-json-stringify|secure-json-parse)$/, 'Fastify'],
  [/^(ioredis|redis-parser|standard-as-callback|cluster-key-slot)$/, 'Redis client'],
  [/^(mongodb|mongoose|bson|mquery)$/, 'MongoDB driver / mongoose'],
  [/^(jsonwebtoken|jws|jwa|lru-cache)$/, 'JWT + cache'],
  [/^(socket.io|socket.io-parser|engine.io|engine.io-parser|ws|@socket.io\/.*|socket.io-adapter)$/, 'Socket.IO / ws'],
  [/^prom-client$/, 'metrics (prom-client)'],
];
const perCat = new Map();
for (const [id, us] of self) {
  if (idleIds.has(id)) {
    continue;
  }
  const { callFrame } = byId.get(id);
  const url = callFrame.url.replace(/^file:\/\//, '');
  const fn = `${callFrame.functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${callFrame.lineNumber + 1}`;
  perFn.set(fn, (perFn.get(fn) ?? 0) + us);
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.includes('/apps/') || url.includes('/libs/') ? 'app code' : url.startsWith('node:') ? 'node core' : callFrame.functionName.startsWith('(') ? callFrame.functionName : url || 'native');
  perPkg.set(pkg, (perPkg.get(pkg) ?? 0) + us);
  const category = CATEGORIES.find(([re]) => re.test(pkg))?.[1] ?? (pkg === 'app code' ? 'app code' : pkg === 'node core' || pkg === 'native' ? 'node core + native (syscalls, writes, crypto)' : pkg);
  perCat.set(category, (perCat.get(category) ?? 0) + us);
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`sampled ${(all / 1e6).toFixed(2)} s, busy ${(total / 1e6).toFixed(2)} s (percentages below are of the busy time)`);
console.log('\nself time by category:');
for (const [k, v] of [...perCat].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${pct(v)}  ${k}`);
}
console.log('\nself time by package:');
for (const [k, v] of [...perPkg].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${pct(v)}  ${k}`);
}
console.log('\nself time by function:');
for (const [k, v] of [...perFn].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${pct(v)}  ${k}`);
}
