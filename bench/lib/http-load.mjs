// Runs one HTTP load in a separate process so the load generator never shares an event loop with the
// bench controller, and returns its result: closed loop with autocannon (bench/workers/autocannon-
// worker.mjs), fixed-rate POSTs with bench/workers/rate-worker.mjs, open loop at a fixed rate with oha,
// closed-loop maxima where the server must be the limit with wrk.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IpcRequests, startProcess } from './procs.mjs';
import { bodyText, randomPath, todoBody } from './requests.mjs';

const WORKER = fileURLToPath(new URL('../workers/autocannon-worker.mjs', import.meta.url));

/** Load-generator CPU above this fraction of one core marks a round as saturated (discarded). */
export const LOADGEN_SATURATION = 0.9;

/** Runs a load-generator process to its end (killed after killAfterMs): its exit code and output. */
function runToEnd(command, args, killAfterMs) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The JSON a worker printed last, marked saturated when its CPU passed LOADGEN_SATURATION. */
function lastJsonLine({ code, stdout, stderr }, what) {
  let result;
  try {
    result = JSON.parse(stdout.trim().split('\n').pop());
  } catch {
    throw new Error(`${what} exited with ${code}: ${stderr.slice(-1_000)}`);
  }
  if (result.error) {
    throw new Error(`${what}: ${result.error}`);
  }
  result.saturated = result.loadgenCpu > LOADGEN_SATURATION;
  return result;
}

export async function httpLoad(spec) {
  const run = await runToEnd(process.execPath, [WORKER, JSON.stringify(spec)], ((spec.duration ?? 2) + 30) * 1000);
  return lastJsonLine(run, 'load generator');
}

const RATE_WORKER = fileURLToPath(new URL('../workers/rate-worker.mjs', import.meta.url));
let rateGenerator;

/**
 * The fixed-rate generator (bench/workers/rate-worker.mjs): one process for the whole bench, so that
 * its code is compiled and its connections open after the first run (stopped by stopAll).
 */
function generator() {
  if (!rateGenerator || rateGenerator.handle.exited) {
    const handle = startProcess('rate-generator', process.execPath, [RATE_WORKER], { ipc: true });
    const exitDetail = () => handle.output().slice(-1_000);
    rateGenerator = { handle, requests: new IpcRequests(handle.child, 'rate generator', { exitDetail }) };
  }
  return rateGenerator;
}

/** Runs one fixed-rate load (bench/workers/rate-worker.mjs) and returns its JSON result. */
export async function rateLoad(spec) {
  const gen = generator();
  // A run that outlives its bound is killed; the next run starts a new generator.
  const { result } = await gen.requests.request({ cmd: 'run', spec }, (spec.durationS * 1.5 + 60) * 1000, {
    onTimeout: () => gen.handle.child.kill('SIGKILL'),
  });
  return { ...result, saturated: result.loadgenCpu > LOADGEN_SATURATION };
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let ohaBin;

/** oha's path: OHA_BIN (set by `npm test`), else built once and cached by scripts/ensure-oha.sh. */
function oha() {
  if (!ohaBin) {
    ohaBin =
      process.env.OHA_BIN && existsSync(process.env.OHA_BIN)
        ? process.env.OHA_BIN
        : execFileSync('bash', [join(ROOT, 'scripts', 'ensure-oha.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  }
  return ohaBin;
}

/** The children's CPU seconds from the second line of the shell's `times` (user and system). */
function childCpuSeconds(timesOutput) {
  const line = timesOutput.trim().split('\n').pop() ?? '';
  return [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, [, m, s]) => sum + Number(m) * 60 + Number(s), 0);
}

/**
 * Runs a native load generator to its end under a shell whose `times` reports the CPU it used (all
 * its threads): its exit code, output (without the tool's stdout when `quiet`) and CPU in cores.
 */
async function runWithCpu(command, args, killAfterMs, { quiet = false } = {}) {
  const t0 = performance.now();
  const script = `"$@"${quiet ? ' >/dev/null' : ''}; status=$?; times; exit $status`;
  const run = await runToEnd('sh', ['-c', script, 'sh', command, ...args], killAfterMs);
  return { ...run, loadgenCpu: childCpuSeconds(run.stdout) / ((performance.now() - t0) / 1000) };
}

/** `-H 'name: value'` for each request header (oha and wrk take the same flag). */
function headerArgs(headers = {}) {
  return Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
}

/**
 * One open-loop load at a fixed rate with oha: requests are due at evenly spaced times whatever the
 * answers do, and each latency counts from the time the request was due (--latency-correction), so
 * a stall shows in the percentiles instead of slowing the load down. autocannon's rate limit is not
 * that: each connection sends its quota for the second back to back, then waits for the next
 * second, so "50% of the maximum rate" is half a second at the maximum and half idle.
 * Same spec and result shape as httpLoad (spec.overallRate is the rate).
 */
export async function openLoopLoad(spec) {
  const dir = mkdtempSync(join(tmpdir(), 'downstream-bench-oha-'));
  const out = join(dir, 'result.json');
  const args = ['-z', `${Math.max(100, Math.round((spec.duration ?? 2) * 1000))}ms`, '-q', String(spec.overallRate), '-c', String(spec.connections ?? 16)];
  args.push('--latency-correction', '-w', '--no-tui', '--output-format', 'json', '-o', out, '-m', spec.method ?? 'GET', ...headerArgs(spec.headers));
  if (spec.todoBody) {
    // oha picks one line at random per request: 1,000 bodies as the autocannon worker makes them.
    writeFileSync(join(dir, 'bodies'), Array.from({ length: 1_000 }, todoBody).join('\n') + '\n');
    args.push('-Z', join(dir, 'bodies'));
  } else if (spec.body !== undefined) {
    args.push('-d', bodyText(spec.body));
  }
  if (spec.randomPath) {
    // oha picks one URL at random per request: 10,000 drawn from the range.
    const urls = Array.from({ length: 10_000 }, () => new URL(randomPath(spec.randomPath), spec.url).href);
    writeFileSync(join(dir, 'urls'), urls.join('\n') + '\n');
    args.push('--urls-from-file', join(dir, 'urls'));
  } else {
    args.push(new URL(spec.path ?? '/', spec.url).href);
  }
  try {
    const { code, stderr, loadgenCpu } = await runWithCpu(oha(), args, ((spec.duration ?? 2) + 30) * 1000, { quiet: true });
    if (code !== 0) {
      throw new Error(`oha exited with ${code}: ${stderr.slice(-1_000)}`);
    }
    const report = JSON.parse(readFileSync(out, 'utf8'));
    const statuses = report.statusCodeDistribution ?? {};
    const expected = spec.expectStatus ?? 200;
    const ok = statuses[expected] ?? 0;
    const seconds = report.summary.total;
    const ms = (key) => (report.latencyPercentiles?.[key] ?? NaN) * 1000;
    // oha cancels nothing with -w; any error it lists (refused, reset, timeout) is counted.
    const errors = Object.values(report.errorDistribution ?? {}).reduce((sum, n) => sum + n, 0);
    return {
      ok, rps: ok / seconds, seconds, statuses, errors, timeouts: 0,
      p50: ms('p50'), p90: ms('p90'), p99: ms('p99'), max: report.summary.slowest * 1000,
      samples: Object.values(statuses).reduce((sum, n) => sum + n, 0),
      loadgenCpu, saturated: loadgenCpu > LOADGEN_SATURATION, tool: 'oha',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** wrk's latency figure (`123.45us`, `1.20ms`, `2.00s`) in milliseconds. */
function wrkMs(text) {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text ?? '');
  if (!match) {
    return NaN;
  }
  return Number(match[1]) * { us: 0.001, ms: 1, s: 1_000, m: 60_000 }[match[2]];
}

/**
 * One closed-loop maximum with wrk (C, one thread): it needs a third to half of the CPU autocannon
 * needs per request, so on two cores the server under test, not the load generator, sets the
 * maximum. GET-like requests with fixed headers only (no random paths or bodies).
 */
export async function wrkLoad(spec) {
  if (spec.randomPath || spec.todoBody || spec.body !== undefined) {
    throw new Error('wrkLoad sends fixed requests only');
  }
  const args = ['-t1', `-c${spec.connections ?? 32}`, `-d${Math.max(1, Math.round(spec.duration ?? 2))}s`, '--latency', ...headerArgs(spec.headers)];
  args.push(new URL(spec.path ?? '/', spec.url).href);
  const { code, stdout, stderr, loadgenCpu } = await runWithCpu('wrk', args, ((spec.duration ?? 2) + 30) * 1000);
  const summary = /(\d+) requests in ([\d.]+(?:us|ms|s|m))/.exec(stdout);
  if (code === 127) {
    throw new Error('wrk is not installed (Debian: apt-get install wrk; npm test installs it)');
  }
  if (code !== 0 || !summary) {
    throw new Error(`wrk exited with ${code}: ${(stderr || stdout).slice(-1_000)}`);
  }
  const total = Number(summary[1]);
  const seconds = wrkMs(summary[2]) / 1_000;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const errors = [...stdout.matchAll(/(connect|read|write|timeout) (\d+)/g)].reduce((sum, m) => sum + Number(m[2]), 0);
  const expected = spec.expectStatus ?? 200;
  // wrk counts answers only as 2xx/3xx or not: the expected status is the one class or the other.
  const ok = expected < 400 ? total - non2xx : non2xx;
  const percentile = (p) => wrkMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(stdout)?.[1]);
  return {
    ok, rps: ok / seconds, seconds, statuses: { [expected]: ok, other: total - ok }, errors, timeouts: 0,
    p50: percentile(50), p99: percentile(99), samples: total,
    loadgenCpu, saturated: loadgenCpu > LOADGEN_SATURATION, tool: 'wrk',
  };
}
