import { benchModule, runScript } from './child-node';

/**
 * When the targeted-emits ladder (bench/lib/emits.mjs `stepToSaturation`) stops: once the
 * throughput stops growing past the knee, so that every server is measured at its plateau and not
 * at whichever rung it happened to deliver 84% of.
 */
interface Step {
  deliveredRate: number;
  behind?: boolean;
  loadgenSaturated?: boolean;
}

/** Evaluates ladderEnds(step, rate, best) for each case in a child process (the bench is ES modules). */
async function ends(cases: [Step, number, number][]): Promise<boolean[]> {
  const script = `import(${benchModule('emits.mjs')}).then(({ ladderEnds }) => {
    process.stdout.write(JSON.stringify(JSON.parse(process.argv[1]).map(([step, rate, best]) => ladderEnds(step, rate, best))));
  })`;
  return runScript<boolean[]>(script, [JSON.stringify(cases)], 30_000);
}

describe('the targeted-emits ladder', () => {
  it('goes on while the offered rate is delivered', async () => {
    expect(await ends([[{ deliveredRate: 3_900 }, 4_000, 2_000]])).toEqual([false]);
  });

  it('goes on past the knee while the throughput still grows by more than 5%', async () => {
    // 84% of the rung, but 1.7 times the best rung before it: the plateau is further up.
    expect(
      await ends([
        [{ deliveredRate: 3_373 }, 4_000, 1_999],
        [{ deliveredRate: 3_700, behind: true }, 8_000, 3_373],
      ]),
    ).toEqual([false, false]);
  });

  it('ends past the knee once a rung delivers no more than 5% above the best before it', async () => {
    expect(
      await ends([
        [{ deliveredRate: 3_500 }, 8_000, 3_373],
        [{ deliveredRate: 2_900 }, 8_000, 3_373],
        [{ deliveredRate: 3_500, behind: true }, 8_000, 3_400],
      ]),
    ).toEqual([true, true, true]);
  });

  it('ends when the generator saturated its own core, whatever was delivered', async () => {
    expect(await ends([[{ deliveredRate: 3_990, loadgenSaturated: true }, 4_000, 1_999]])).toEqual([true]);
  });
});
