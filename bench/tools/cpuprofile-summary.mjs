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
const total = [...self.values()].reduce((a, b) => a + b, 0);
const perFn = new Map();
const perPkg = new Map();
for (const [id, us] of self) {
  const { callFrame } = byId.get(id);
  const url = callFrame.url.replace(/^file:\/\//, '');
  const fn = `${callFrame.functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${callFrame.lineNumber + 1}`;
  perFn.set(fn, (perFn.get(fn) ?? 0) + us);
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.includes('/apps/') || url.includes('/libs/') ? 'app code' : url.startsWith('node:') ? 'node core' : callFrame.functionName.startsWith('(') ? callFrame.functionName : url || 'native');
  perPkg.set(pkg, (perPkg.get(pkg) ?? 0) + us);
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`total sampled ${(total / 1e6).toFixed(2)} s`);
console.log('\nself time by package:');
for (const [k, v] of [...perPkg].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${pct(v)}  ${k}`);
}
console.log('\nself time by function:');
for (const [k, v] of [...perFn].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${pct(v)}  ${k}`);
}
