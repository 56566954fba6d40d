#!/usr/bin/env node
// Compiles apps/ and libs/ to dist/ with SWC (path aliases resolved at compile time) and copies
// static assets. Type checking is `npm run typecheck`; this step only transpiles, in about a second.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
rmSync(join(root, 'dist'), { recursive: true, force: true });
const swc = join(root, 'node_modules', '.bin', 'swc');
const result = spawnSync(
  swc,
  ['apps', 'libs', '-d', 'dist', '--config-file', '.swcrc', '--ignore', '**/*.spec.ts,**/test/**,libs/testing/**', '--quiet'],
  { cwd: root, stdio: 'inherit' },
);
if (result.status !== 0) {
  console.error('[build] swc failed: see the errors above');
  process.exit(1);
}
for (const app of ['event-gateway']) {
  const assets = join(root, 'apps', app, 'src', 'public');
  if (existsSync(assets)) {
    cpSync(assets, join(root, 'dist', 'apps', app, 'src', 'public'), { recursive: true });
  }
}
console.error(`[build] dist/ ready in ${Date.now() - started} ms`);
