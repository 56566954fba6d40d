import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * The candidate/baseline ratio of two closed-loop maxima (bench/lib/http-scenario.mjs `pairedRatio`)
 * and its text in the report (bench/lib/report.mjs `fmtRatio`). A round in which a load generator
 * saturated its core measured the load generator, not the server: it is left out of the ratio, as
 * it is of the maxima.
 */
const ROOT = resolve(__dirname, '..', '..');

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
  const lib = (file: string) => JSON.stringify(join(ROOT, 'bench', 'lib', file));
  const script = `Promise.all([import(${lib('http-scenario.mjs')}), import(${lib('report.mjs')})]).then(([{ pairedRatio }, { fmtRatio }]) => {
    const ratio = pairedRatio(JSON.parse(process.argv[1]), 'c', 'b');
    process.stdout.write(JSON.stringify({ ratio, text: fmtRatio(ratio) }));
  })`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['-e', script, JSON.stringify({ c: candidate, b: baseline })],
    { cwd: ROOT, timeout: 30_000 },
  );
  return JSON.parse(stdout) as { ratio: Ratio; text: string };
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
