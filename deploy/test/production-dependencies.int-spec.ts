import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServiceName, type ServiceProcess, serviceEnv, spawnService, testNamespace } from '@app/testing';

// The runtime image holds dist/ and `npm ci --omit=dev` only. Without Docker, the same condition is
// reproduced here: each service runs from dist/ with NODE_ENV=production while every package that
// `npm ci --omit=dev` would not install (per package-lock.json) is made unresolvable, exactly as if
// it were absent from node_modules. A service that needs a devDependency at run time cannot boot.

const ROOT = join(__dirname, '..', '..');

/** Package directories `npm ci --omit=dev` installs, relative to the repository root. */
function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean; link?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith('node_modules/') && !entry.dev && !entry.devOptional)
    .map(([path]) => path);
}

// Preloaded into the service (NODE_OPTIONS=--require): resolution of a file inside a package that is
// not a production package fails with MODULE_NOT_FOUND, and the attempt is logged.
const GUARD = `
const Module = require('module');
const fs = require('fs');
const path = require('path');
const root = process.env.DEPS_GUARD_ROOT;
const allowed = new Set(JSON.parse(fs.readFileSync(process.env.DEPS_GUARD_ALLOWED, 'utf8')));
const log = process.env.DEPS_GUARD_LOG;
const original = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const resolved = original.call(this, request, parent, ...rest);
  const relative = path.relative(root, resolved).split(path.sep).join('/');
  const match = /^((?:node_modules\\/(?:@[^/]+\\/)?[^/]+\\/)*node_modules\\/(?:@[^/]+\\/)?[^/]+)\\//.exec(relative);
  if (match && !allowed.has(match[1])) {
    fs.appendFileSync(log, match[1] + '\\n');
    const error = new Error("Cannot find module '" + request + "' (not a production dependency)");
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return resolved;
};
`;

describe('the services with production dependencies only (as in the image)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'downstream-prod-deps-'));
  const guard = join(dir, 'guard.cjs');
  const allowed = join(dir, 'allowed.json');
  const running: ServiceProcess[] = [];

  beforeAll(() => {
    writeFileSync(guard, GUARD);
    writeFileSync(allowed, JSON.stringify(productionPackages()));
  });

  afterAll(async () => {
    await Promise.all(running.map((service) => service.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  it('knows which packages are dev-only (the guard has something to refuse)', () => {
    const prod = new Set(productionPackages());
    expect(prod.has('node_modules/@nestjs/core')).toBe(true);
    expect(prod.has('node_modules/socket.io')).toBe(true);
    expect(prod.has('node_modules/@socket.io/admin-ui')).toBe(true);
    expect(prod.has('node_modules/jest')).toBe(false);
    expect(prod.has('node_modules/typescript')).toBe(false);
    // The guard lets a production package load and refuses a dev-only one.
    const log = join(dir, 'probe.log');
    writeFileSync(log, '');
    const env = { ...process.env, DEPS_GUARD_ROOT: ROOT, DEPS_GUARD_ALLOWED: allowed, DEPS_GUARD_LOG: log };
    const probe = (code: string) =>
      spawnSync(process.execPath, ['--require', guard, '-e', code], { cwd: ROOT, env, encoding: 'utf8' });
    expect(probe("require('ioredis')").status).toBe(0);
    const refused = probe("require('yaml')");
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('not a production dependency');
    expect(readFileSync(log, 'utf8')).toBe('node_modules/yaml\n');
  });

  it.each<ServiceName>(['auth-service', 'event-gateway', 'todo-service'])(
    '%s becomes ready in production mode and stops with exit code 0 on SIGTERM',
    async (name) => {
      const log = join(dir, `${name}.log`);
      writeFileSync(log, '');
      const ns = testNamespace(`prod-deps-${name}`);
      const service = await spawnService(
        name,
        serviceEnv(name, ns, {
          NODE_ENV: 'production',
          LOG_LEVEL: 'warn',
          NODE_OPTIONS: `--require ${guard}`,
          DEPS_GUARD_ROOT: ROOT,
          DEPS_GUARD_ALLOWED: allowed,
          DEPS_GUARD_LOG: log,
        }),
        { waitReady: true },
      );
      running.push(service);
      const live = await fetch(`${service.url}/health/live`);
      expect(live.status).toBe(200);
      const refused = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))];
      // Optional imports may probe a dev-only package and fall back; the service must not need one.
      expect(
        refused.filter((pkg) =>
          /node_modules\/(@nestjs\/testing|jest|ts-node|typescript|@swc\/core)$/.test(pkg),
        ),
      ).toEqual([]);
      expect(await service.stop('SIGTERM')).toBe(0);
    },
  );
});
