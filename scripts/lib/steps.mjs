// Small helpers shared by scripts/start.mjs and scripts/test.mjs: timed steps with progress,
// and the installs a fresh machine lacks (node modules, Debian packages, FerretDB, helm).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const summary = [];

export function log(message) {
  process.stderr.write(`\x1b[36m[downstream]\x1b[0m ${message}\n`);
}

/** Runs `fn` as a named step: prints start, elapsed time and outcome; on failure, how to fix it. */
export async function step(name, fn, { fix } = {}) {
  const started = Date.now();
  log(`${name} …`);
  // A heartbeat so that long steps show they are alive.
  const heartbeat = setInterval(() => log(`  ${name}: still working (${Math.round((Date.now() - started) / 1000)} s)`), 15_000);
  try {
    const result = await fn();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    summary.push(`${name}: ok (${seconds} s)`);
    log(`${name}: done in ${seconds} s`);
    return result;
  } catch (error) {
    summary.push(`${name}: FAILED`);
    log(`${name}: FAILED: ${error instanceof Error ? error.message : String(error)}`);
    if (fix) {
      log(`  how to fix: ${fix}`);
    }
    throw error;
  } finally {
    clearInterval(heartbeat);
  }
}

export function printSummary() {
  for (const line of summary) {
    log(`  ${line}`);
  }
}

export function hasCommand(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Runs a command with inherited output; rejects on a non-zero exit. */
export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}`)),
    );
  });
}

/** `npm ci` when node_modules is missing or older than package-lock.json. */
export async function ensureNodeModules() {
  const marker = join(ROOT, 'node_modules', '.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) {
    return 'present';
  }
  await step('installing node modules (npm ci)', () => run('npm', ['ci', '--no-audit', '--no-fund']), {
    fix: 'check access to the npm registry, then run npm ci',
  });
  return 'installed';
}

const APT_PACKAGES = { 'redis-server': 'redis-server', nginx: 'nginx', chromium: 'chromium' };
let aptUpdated = false;

/** Installs Debian packages for the commands that are missing (as root), or says what to install. */
export async function ensureCommands(commands) {
  const missing = commands.filter((command) => !hasCommand(command) && !existsSync(`/usr/sbin/${command}`));
  if (missing.length === 0) {
    return;
  }
  const packages = missing.map((command) => APT_PACKAGES[command] ?? command);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !hasCommand('apt-get')) {
    throw new Error(`missing ${missing.join(', ')}: install them (Debian: sudo apt-get install -y ${packages.join(' ')})`);
  }
  await step(`installing ${packages.join(', ')} (apt-get)`, async () => {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (!aptUpdated) {
      await run('apt-get', ['update', '-qq'], { env });
      aptUpdated = true;
    }
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env });
  }, { fix: `apt-get install -y ${packages.join(' ')}` });
}

const GO_FIX = 'install Go (apt-get install golang) and make sure the Go module proxy is reachable';

function cachedBuild(script, label, fix = GO_FIX) {
  return step(label, () => execFileSync('bash', [join(ROOT, 'scripts', script)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim(), {
    fix,
  });
}

/** The FerretDB binary, built from the Go module proxy on first use and cached. */
export function ensureFerretDb() {
  return cachedBuild('ensure-ferretdb.sh', 'FerretDB (MongoDB wire protocol server)');
}

/** The helm CLI, built from the Go module proxy on first use and cached. */
export function ensureHelm() {
  return cachedBuild('ensure-helm.sh', 'helm CLI');
}

/** oha, the benchmarks' open-loop HTTP load generator, built from the Rust crate registry on first use and cached. */
export function ensureOha() {
  return cachedBuild('ensure-oha.sh', 'oha (open-loop HTTP load generator)', 'install Rust (rustup, or apt-get install cargo) and make sure the crate registry is reachable');
}

/** Transpiles apps and libs to dist/. */
export function build() {
  return step('building the services (swc → dist/)', () => run(process.execPath, [join(ROOT, 'scripts', 'build.mjs')]));
}
