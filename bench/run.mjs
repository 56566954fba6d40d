#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --only=<scenario>[,<scenario>]] [-- --out=<dir>] [-- --smoke] [-- --profile] [-- --client=socket.io-client]`
// Runs every scenario candidate-beside-baseline on loopback, writes <out>/results.json, one SVG per
// scenario and BENCHMARKS.md (repo root by default; inside <out> when --out is given).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { machineLabel, machineText } from './lib/machine.mjs';
import { stopAll } from './lib/procs.mjs';
import { ROOT, buildPrivateDist, cleanScratch, removePrivateDist, issueTokens, startBaseline, startFerretDb, startNginx, startRedis, startService } from './lib/stack.mjs';
import { lineChart, barChart } from './lib/svg.mjs';
import { writeReport } from './lib/report.mjs';
import * as authVerify from './scenarios/auth-verify.mjs';
import * as todoApi from './scenarios/todo-api.mjs';
import * as gateway from './scenarios/gateway.mjs';
import * as endToEnd from './scenarios/end-to-end.mjs';
import * as replicas from './scenarios/replicas.mjs';

export const SCENARIOS = [authVerify, todoApi, gateway, endToEnd, replicas];

function parseArgs(argv) {
  const args = { quick: false, smoke: false, profile: false, heapSnapshots: false, only: undefined, out: undefined, rounds: undefined, client: 'wire' };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const [key, inline] = arg.split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i];
    switch (key) {
      case '--quick': args.quick = true; break;
      case '--smoke': args.smoke = true; args.quick = true; break;
      case '--profile': args.profile = true; break;
      case '--heap-snapshots': args.heapSnapshots = true; break;
      case '--report-only': args.reportOnly = true; break;
      case '--only': args.only = value().split(','); break;
      case '--out': args.out = resolve(value()); break;
      case '--rounds': args.rounds = Number(value()); break;
      case '--sockets': args.sockets = Number(value()); break;
      case '--todos': args.todos = Number(value()); break;
      case '--client':
        args.client = value();
        if (!['wire', 'socket.io-client'].includes(args.client)) {
          throw new Error(`--client must be wire or socket.io-client, not ${args.client}`);
        }
        break;
      case '--help': case '-h':
        console.log('usage: node bench/run.mjs [--quick] [--smoke] [--only=a,b] [--out=dir] [--rounds=n] [--sockets=n] [--todos=n] [--client=wire|socket.io-client] [--profile] [--heap-snapshots] [--report-only]');
        console.log(`scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`);
        process.exit(0);
        break;
      default: throw new Error(`unknown argument ${arg}`);
    }
  }
  return args;
}

/** Sizes per mode. Full: the issue's numbers; quick: minutes; smoke: seconds (npm test). */
function params(args) {
  const mode = args.smoke ? 'smoke' : args.quick ? 'quick' : 'full';
  const base = {
    full: { rounds: 3, serverBoundRounds: 5, durations: { warmup: 2, http: 3 }, sockets: 10_000, socketProcesses: 4, seedTodos: 100_000, e2e: { rate: 100, seconds: 30, users: 100, warmupSeconds: 10 }, emitSteps: [500, 1000, 2000, 4000, 8000], stepSeconds: 3, broadcasts: 5, replicaSockets: 2_000 },
    quick: { rounds: 3, serverBoundRounds: 3, durations: { warmup: 1, http: 2 }, sockets: 2_000, socketProcesses: 2, seedTodos: 10_000, e2e: { rate: 100, seconds: 10, users: 50, warmupSeconds: 5 }, emitSteps: [250, 500, 1000, 2000, 4000], stepSeconds: 2, broadcasts: 3, replicaSockets: 500 },
    smoke: { rounds: 1, serverBoundRounds: 1, durations: { warmup: 0, http: 0.5 }, sockets: 50, socketProcesses: 1, seedTodos: 200, e2e: { rate: 20, seconds: 1, users: 5, warmupSeconds: 0 }, emitSteps: [50, 100], stepSeconds: 0.5, broadcasts: 1, replicaSockets: 10 },
  }[mode];
  if (args.rounds) {
    base.rounds = args.rounds;
    base.serverBoundRounds = args.rounds;
  }
  if (args.sockets) {
    base.sockets = args.sockets;
  }
  if (args.todos) {
    base.seedTodos = args.todos;
  }
  return { mode, ...base };
}

function gitState() {
  const run = (args) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = run(['rev-parse', '--short', 'HEAD']);
  if (!commit && process.env.BENCH_SOURCE_COMMIT) {
    // A copy of the repository without .git (for example a scratch workspace): the caller names it.
    return { commit: process.env.BENCH_SOURCE_COMMIT, dirty: process.env.BENCH_SOURCE_DIRTY === '1' };
  }
  return { commit: commit || 'unknown', dirty: run(['status', '--porcelain', '--', 'apps', 'libs']).length > 0 };
}

function stamp() {
  return new Date().toISOString().slice(11, 19);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const p = params(args);
  const outDir = args.out ?? join(ROOT, 'bench', 'results');
  const mdPath = args.out ? join(args.out, 'BENCHMARKS.md') : join(ROOT, 'BENCHMARKS.md');
  if (args.reportOnly) {
    // Rewrites BENCHMARKS.md from <out>/results.json (after editing bench/analysis.md).
    writeReport(mdPath, JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8')), { outDir, mdPath });
    console.log(`[bench] wrote ${mdPath} from ${join(outDir, 'results.json')}`);
    return;
  }
  mkdirSync(outDir, { recursive: true });
  const names = (s) => [s.name, ...(s.covers ?? [])];
  const selected = SCENARIOS.filter((s) => !args.only || names(s).some((n) => args.only.includes(n)));
  if (!selected.length) {
    throw new Error(`no scenario matches ${args.only}; known: ${SCENARIOS.flatMap(names).join(', ')}`);
  }
  const machine = machineLabel();
  const command = `npm run bench --${args.quick && !args.smoke ? ' --quick' : ''}${args.smoke ? ' --smoke' : ''}${args.only ? ` --only=${args.only.join(',')}` : ''}${args.rounds ? ` --rounds=${args.rounds}` : ''}${args.sockets ? ` --sockets=${args.sockets}` : ''}${args.todos ? ` --todos=${args.todos}` : ''}${args.client !== 'wire' ? ` --client=${args.client}` : ''}${args.profile ? ' --profile' : ''}${args.heapSnapshots ? ' --heap-snapshots' : ''}`.replace(/ --$/, '');
  console.log(`[bench ${stamp()}] ${p.mode} run on ${machineText(machine)}; scenarios: ${selected.map((s) => s.name).join(', ')}`);
  const startedAt = new Date().toISOString();
  buildPrivateDist();
  const git = gitState();
  console.log(`[bench ${stamp()}] services built from the working tree at ${git.commit}${git.dirty ? ' (with uncommitted changes)' : ''}`);

  let redis;
  let mongo;
  const shared = {
    redis: async () => (redis ??= await startRedis()),
    mongo: async () => (mongo ??= await startFerretDb()),
  };
  const results = [];
  for (const scenario of selected) {
    const t0 = Date.now();
    const owned = [];
    const progress = (message) => console.log(`[bench ${stamp()}] ${scenario.name}: ${message}`);
    const options = { profile: args.profile, profileDir: join(outDir, 'profiles') };
    if (args.profile || args.heapSnapshots) {
      mkdirSync(options.profileDir, { recursive: true });
    }
    const ctx = {
      ...p,
      smoke: args.smoke,
      quick: args.quick,
      profile: args.profile,
      heapSnapshots: args.heapSnapshots,
      client: args.client,
      profileDir: options.profileDir,
      progress,
      ...shared,
      service: async (name, env, tag = '') => {
        const handle = await startService(name, env, { ...options, name: `${name}${tag}` });
        owned.push(handle);
        return handle;
      },
      baseline: async (file, env) => {
        const handle = await startBaseline(file, env, options);
        owned.push(handle);
        return handle;
      },
      nginx: async () => {
        const handle = await startNginx();
        owned.push(handle);
        return handle;
      },
      own: (closable) => owned.push(closable),
      tokens: (authUrl, users) => issueTokens(authUrl, users),
    };
    progress('starting');
    const entries = [];
    const startedAtScenario = new Date().toISOString();
    const loadBefore = os.loadavg().map((v) => Math.round(v * 100) / 100);
    try {
      const out = await scenario.run(ctx);
      const seconds = (Date.now() - t0) / 1000;
      for (const part of out.parts ?? [{ name: scenario.name, title: scenario.title, ...out }]) {
        const svg = part.chart.type === 'bar' ? barChart(part.chart) : lineChart(part.chart);
        const svgFile = `${part.name}.svg`;
        writeFileSync(join(outDir, svgFile), svg);
        entries.push({ name: part.name, title: part.title, rows: part.rows, conditions: part.conditions, data: part.data, svg: svgFile, seconds, startedAt: startedAtScenario, loadAverageAtStart: loadBefore, command, mode: p.mode, params: p });
      }
      progress(`done in ${Math.round(seconds)} s`);
    } catch (error) {
      progress(`FAILED: ${error.stack ?? error}`);
      for (const partName of scenario.covers ?? [scenario.name]) {
        entries.push({ name: partName, title: scenario.title, error: String(error.message ?? error), rows: [], seconds: (Date.now() - t0) / 1000 });
      }
    } finally {
      for (const handle of owned.reverse()) {
        await (handle.close?.() ?? handle.stop?.())?.catch?.(() => undefined);
      }
    }
    results.push(...entries);
  }
  await stopAll();
  cleanScratch();
  removePrivateDist();
  // With --only, the other scenarios of an earlier run of the same mode are kept (each entry carries
  // its own time, load average and command), so scenarios can be measured one at a time.
  const resultsFile = join(outDir, 'results.json');
  let scenarios = results;
  if (args.only && existsSync(resultsFile)) {
    try {
      const previous = JSON.parse(readFileSync(resultsFile, 'utf8'));
      // Smoke results never mix with measurements; quick and full may (each entry names its mode).
      if ((previous.mode === 'smoke') === (p.mode === 'smoke')) {
        const fresh = new Set(results.map((r) => r.name));
        const order = SCENARIOS.flatMap(names).filter((n) => n !== 'gateway');
        scenarios = [...previous.scenarios.filter((s) => !fresh.has(s.name)), ...results].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
      }
    } catch {
      // unreadable: start over
    }
  }
  const report = { machine, command, mode: p.mode, params: p, git, startedAt, finishedAt: new Date().toISOString(), scenarios };
  writeFileSync(resultsFile, JSON.stringify(report, null, 2));
  writeReport(mdPath, report, { outDir, mdPath });
  console.log(`[bench ${stamp()}] wrote ${join(outDir, 'results.json')} and ${mdPath}`);
  if (results.some((r) => r.error)) {
    process.exitCode = 1;
  }
}

const stopping = async (signal) => {
  console.log(`[bench] ${signal}: stopping the processes the bench started`);
  await stopAll();
  cleanScratch();
  removePrivateDist();
  process.exit(130);
};
process.on('SIGINT', () => void stopping('SIGINT'));
process.on('SIGTERM', () => void stopping('SIGTERM'));

main().catch(async (error) => {
  console.error(`[bench] ${error.stack ?? error}`);
  await stopAll();
  cleanScratch();
  removePrivateDist();
  process.exit(1);
});
