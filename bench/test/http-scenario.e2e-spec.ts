import { benchModule, runScript } from './child-node';

/**
 * The candidate/baseline ratio of two closed-loop maxima (bench/lib/http-scenario.mjs `pairedRatio`)
 * and its text in the report (bench/lib/report.mjs `fmtRatio`). A round in which a load generator
 * saturated its core measured the load generator, not the server: it is left out of the ratio, as
 * it is of the maxima.
 */
interface Ratio {
  median: number;
  min: number;
  max: number;
  pairs: number;
  discarded: number;
  loadgenBound: boolean;
}
interface Run {
  rps: number;
  saturated?: boolean;
}

/** Evaluates pairedRatio and fmtRatio in a child process (the bench is ES modules). */
async function ratioOf(candidate: Run[], baseline: Run[]): Promise<{ ratio: Ratio; text: string }> {
  const script = `Promise.all([import(${benchModule('http-scenario.mjs')}), import(${benchModule('report.mjs')})]).then(([{ pairedRatio }, { fmtRatio }]) => {
    const ratio = pairedRatio(JSON.parse(process.argv[1]), 'c', 'b');
    process.stdout.write(JSON.stringify({ ratio, text: fmtRatio(ratio) }));
  })`;
  return runScript<{ ratio: Ratio; text: string }>(
    script,
    [JSON.stringify({ c: candidate, b: baseline })],
    30_000,
  );
}

describe('the paired ratio of closed-loop maxima', () => {
  it('is the median and range of the per-round ratios when no load generator saturated', async () => {
    const { ratio, text } = await ratioOf(
      [{ rps: 70 }, { rps: 90 }, { rps: 60 }],
      [{ rps: 100 }, { rps: 100 }, { rps: 100 }],
    );
    expect(ratio).toEqual({ median: 0.7, min: 0.6, max: 0.9, pairs: 3, discarded: 0, loadgenBound: false });
    expect(text).toBe('**0.70×** (0.60–0.90)');
  });

  it('leaves out a round in which the baseline’s load generator saturated', async () => {
    const { ratio, text } = await ratioOf(
      [{ rps: 70 }, { rps: 90 }, { rps: 50 }],
      [{ rps: 100 }, { rps: 100, saturated: true }, { rps: 100 }],
    );
    expect(ratio).toMatchObject({
      median: 0.6,
      min: 0.5,
      max: 0.7,
      pairs: 3,
      discarded: 1,
      loadgenBound: false,
    });
    expect(text).toBe('**0.60×** (0.50–0.70) over 2 of 3 rounds (in the others a load generator saturated)');
  });

  it('leaves out a round in which the candidate’s load generator saturated', async () => {
    const { ratio } = await ratioOf(
      [{ rps: 95, saturated: true }, { rps: 60 }, { rps: 80 }],
      [{ rps: 100 }, { rps: 100 }, { rps: 100 }],
    );
    expect(ratio).toMatchObject({ median: 0.7, min: 0.6, max: 0.8, discarded: 1 });
  });

  it('keeps every round and says so when a load generator saturated in each', async () => {
    const { ratio, text } = await ratioOf(
      [{ rps: 70 }, { rps: 80, saturated: true }],
      [{ rps: 100, saturated: true }, { rps: 100 }],
    );
    expect(ratio).toMatchObject({
      median: 0.75,
      min: 0.7,
      max: 0.8,
      pairs: 2,
      discarded: 0,
      loadgenBound: true,
    });
    expect(text).toBe(
      '**0.75×** (0.70–0.80), load-generator bound (a load generator saturated in every round)',
    );
  });
});

/**
 * runHttpScenario in a child process with scripted load generators: the maxima of the reference
 * come out of `maxRps` round by round, and the fixed-rate runs report the rate they were offered.
 */
async function offeredRate(maxRps: number[], saturatedRounds: number[] = []): Promise<number> {
  const script = `import(${benchModule('http-scenario.mjs')}).then(async ({ runHttpScenario }) => {
    const { maxRps, saturatedRounds } = JSON.parse(process.argv[1]);
    let round = 0;
    const answer = (rps, saturated) => ({ ok: 1, rps, p50: 1, p99: 2, errors: 0, timeouts: 0, statuses: { 200: 1 }, loadgenCpu: saturated ? 1 : 0.5, saturated });
    const maxLoad = async () => { const r = round++; return answer(maxRps[r], saturatedRounds.includes(r)); };
    const offered = [];
    const fixedLoad = async (spec) => { offered.push(spec.overallRate); return answer(spec.overallRate, false); };
    const ctx = { rounds: maxRps.length, durations: { warmup: 0, http: 1 }, progress: () => undefined };
    const target = { key: 'b', label: 'baseline', url: 'http://127.0.0.1:9', pid: process.pid, request: {} };
    await runHttpScenario(ctx, { targets: [target], reference: 'b', ratePlan: [0.5], maxLoad, fixedLoad });
    process.stdout.write(JSON.stringify(offered));
  })`;
  const offered = await runScript<number[]>(script, [JSON.stringify({ maxRps, saturatedRounds })], 30_000);
  expect(new Set(offered).size).toBe(1);
  return offered[0];
}

describe('the rate of the fixed-rate latency runs', () => {
  it('is the fraction of the reference’s best round: a stall only lowers a closed-loop maximum', async () => {
    // The median round (2,000/s) would offer 1,000/s.
    await expect(offeredRate([1_000, 3_000, 2_000])).resolves.toBe(1_500);
  });

  it('leaves out the rounds in which the load generator saturated', async () => {
    await expect(offeredRate([1_000, 3_000, 2_000], [1])).resolves.toBe(1_000);
  });
});
