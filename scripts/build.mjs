#!/usr/bin/env node
// Compiles apps/ and libs/ to dist/ with SWC (path aliases resolved at compile time) and copies
// static assets. Type checking is `npm run typecheck`; this step only transpiles, in about a second.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
// Build into a fresh directory and swap it in, so that processes starting from dist/ meanwhile
// (another test run, npm start) never see a half-written tree.
const out = `dist.tmp-${process.pid}`;
rmSync(join(root, out), { recursive: true, force: true });
const swc = join(root, 'node_modules', '.bin', 'swc');
const result = spawnSync(
  swc,
  ['apps', 'libs', '-d', out, '--config-file', '.swcrc', '--ignore', '**/*.spec.ts,**/test/**,libs/testing/**', '--quiet'],
  { cwd: root, stdio: 'inherit' },
);
if (result.status !== 0) {
  console.error('[build] swc failed: see the errors above');
  process.exit(1);
}
for (const app of ['event-gateway']) {
  const assets = join(root, 'apps', app, 'src', 'public');
  if (existsSync(assets)) {
    cpSync(assets, join(root, out, 'apps', app, 'src', 'public'), { recursive: true });
  }
}
const old = `dist.old-${process.pid}`;
if (existsSync(join(root, 'dist'))) {
  renameSync(join(root, 'dist'), join(root, old));
}
renameSync(join(root, out), join(root, 'dist'));
rmSync(join(root, old), { recursive: true, force: true });
console.error(`[build] dist/ ready in ${Date.now() - started} ms`);
