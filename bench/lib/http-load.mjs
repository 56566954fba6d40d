// Runs one HTTP load in a separate process (bench/workers/autocannon-worker.mjs) so the load
// generator never shares an event loop with the bench controller, and returns its JSON result.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('../workers/autocannon-worker.mjs', import.meta.url));

/** Load-generator CPU above this fraction of one core marks a round as saturated (discarded). */
export const LOADGEN_SATURATION = 0.9;

export function httpLoad(spec) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const killer = setTimeout(() => child.kill('SIGKILL'), ((spec.duration ?? 2) + 30) * 1000);
    child.once('exit', (code) => {
      clearTimeout(killer);
      try {
        const result = JSON.parse(out.trim().split('\n').pop());
        if (result.error) {
          reject(new Error(`load generator: ${result.error}`));
          return;
        }
        result.saturated = result.loadgenCpu > LOADGEN_SATURATION;
        resolve(result);
      } catch {
        reject(new Error(`load generator exited with ${code}: ${err.slice(-1_000)}`));
      }
    });
  });
}

const RATE_WORKER = fileURLToPath(new URL('../workers/rate-worker.mjs', import.meta.url));

/** Runs bench/workers/rate-worker.mjs (fixed-rate POSTs) and returns its JSON result. */
export function rateLoad(spec) {
  return new Promise((resolve, reject) => {
    const dir = mkdtempSync(join(tmpdir(), 'downstream-bench-rate-'));
    const specFile = join(dir, 'spec.json');
    writeFileSync(specFile, JSON.stringify(spec));
    const child = spawn(process.execPath, [RATE_WORKER, specFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const killer = setTimeout(() => child.kill('SIGKILL'), (spec.durationS * 1.5 + 60) * 1000);
    child.once('exit', (code) => {
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
      try {
        const result = JSON.parse(out.trim().split('\n').pop());
        result.saturated = result.loadgenCpu > LOADGEN_SATURATION;
        resolve(result);
      } catch {
        reject(new Error(`rate generator exited with ${code}: ${err.slice(-1_000)}`));
      }
    });
  });
}
