import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './child-node';

/**
 * Runs every benchmark scenario tiny (`--smoke`: a few sockets, fractions of a second per load) so
 * the bench never rots. Writes only into a temporary directory, never into bench/results or
 * BENCHMARKS.md. The figures themselves are meaningless at this size; the test checks that each
 * scenario ran end to end and produced numbers, a ratio and a chart.
 */
const SCENARIOS = [
  'auth-verify',
  'todo-api',
  'gateway-idle',
  'gateway-emits',
  'gateway-broadcast',
  'end-to-end',
  'replicas',
];

interface Row {
  scenario: string;
  baseline: string;
  candidate: string;
  ratio: { median: number; min: number; max: number };
  ratioNote?: string;
  target: string;
}
interface ScenarioResult {
  name: string;
  error?: string;
  rows: Row[];
  svg?: string;
  data?: { wrkMaxRuns?: Record<string, { rps: number; loadgenCpu: number; serverCpu: number }[]> };
}
interface Report {
  machine: { cores: number; cpuModel: string; node: string };
  mode: string;
  scenarios: ScenarioResult[];
}

function runBench(out: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'run.mjs'), '--smoke', '--out', out], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), 170_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, output });
    });
  });
}

describe('the benchmark smoke run', () => {
  const out = mkdtempSync(join(tmpdir(), 'downstream-bench-smoke-'));
  const mdMtime = existsSync(join(ROOT, 'BENCHMARKS.md'))
    ? statSync(join(ROOT, 'BENCHMARKS.md')).mtimeMs
    : undefined;
  let run: { code: number | null; output: string };
  let report: Report;

  beforeAll(async () => {
    run = await runBench(out);
    const file = join(out, 'results.json');
    if (!existsSync(file)) {
      throw new Error(`the bench wrote no results.json (exit ${run.code}):\n${run.output.slice(-4_000)}`);
    }
    report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  }, 180_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('exits 0 and labels the machine', () => {
    expect({ code: run.code, tail: run.code === 0 ? '' : run.output.slice(-3_000) }).toEqual({
      code: 0,
      tail: '',
    });
    expect(report.mode).toBe('smoke');
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.node).toBe(process.version);
  });

  it.each(SCENARIOS)('measures %s with numbers, a candidate/baseline ratio and an SVG chart', (name) => {
    const scenario = report.scenarios.find((s) => s.name === name);
    expect(scenario?.error).toBeUndefined();
    expect(scenario?.rows.length).toBeGreaterThan(0);
    for (const row of scenario!.rows) {
      expect(row.baseline).toMatch(/\d/);
      expect(row.candidate).toMatch(/\d/);
      expect(Number.isFinite(row.ratio.median)).toBe(true);
      expect(row.ratio.median).toBeGreaterThan(0);
    }
    const svg = readFileSync(join(out, scenario!.svg!), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('</svg>');
  });

  it('judges the /auth/verify throughput on wrk maxima, and reports autocannon’s ratio beside it', () => {
    const scenario = report.scenarios.find((s) => s.name === 'auth-verify');
    const runs = scenario?.data?.wrkMaxRuns;
    expect(Object.keys(runs ?? {}).sort()).toEqual(['bad', 'fastify', 'nginx', 'valid']);
    // nginx's CPU is its worker's (the master's stays at zero).
    for (const run of Object.values(runs!).flat()) {
      expect(run.rps).toBeGreaterThan(0);
      expect(run.loadgenCpu).toBeGreaterThan(0);
      expect(run.serverCpu).toBeGreaterThan(0);
    }
    // One round in smoke mode: the judged ratio is that round's wrk pair.
    const rows = Object.fromEntries(
      scenario!.rows.map((row) => [row.scenario.includes('valid') ? 'valid' : 'bad', row]),
    );
    for (const key of ['valid', 'bad']) {
      expect(rows[key].ratio.median).toBeCloseTo(runs![key][0].rps / runs!.fastify[0].rps, 6);
      expect(rows[key].candidate).toMatch(/ req\/s \(wrk\)$/);
      expect(rows[key].ratioNote).toMatch(/^with autocannon: \*\*\d+\.\d{2}×\*\* \(\d+\.\d{2}–\d+\.\d{2}\)/);
    }
  });

  it('writes its report into the chosen directory, not into the repository', () => {
    const md = readFileSync(join(out, 'BENCHMARKS.md'), 'utf8');
    expect(md).toContain('| Scenario | Baseline | Candidate |');
    const now = existsSync(join(ROOT, 'BENCHMARKS.md'))
      ? statSync(join(ROOT, 'BENCHMARKS.md')).mtimeMs
      : undefined;
    expect(now).toBe(mdMtime);
  });
});
