import { computeBackoff } from './backoff';

describe('computeBackoff', () => {
  it('doubles per attempt between half and all of the exponential delay', () => {
    expect(computeBackoff(1, 1_000, 60_000, () => 0)).toBe(500);
    expect(computeBackoff(1, 1_000, 60_000, () => 1)).toBe(1_000);
    expect(computeBackoff(2, 1_000, 60_000, () => 1)).toBe(2_000);
    expect(computeBackoff(4, 1_000, 60_000, () => 0.5)).toBe(6_000);
  });

  it('never exceeds the maximum, even after very many attempts', () => {
    expect(computeBackoff(30, 1_000, 60_000, () => 1)).toBe(60_000);
    expect(computeBackoff(10_000, 1_000, 60_000, () => 0.999)).toBeLessThanOrEqual(60_000);
    expect(computeBackoff(10_000, 1_000, 60_000, () => 0)).toBe(30_000);
  });

  it('jitters: different random draws give different delays', () => {
    const delays = new Set([0, 0.25, 0.5, 0.75].map((r) => computeBackoff(3, 1_000, 60_000, () => r)));
    expect(delays.size).toBe(4);
  });

  it('treats an attempt below 1 as the first', () => {
    expect(computeBackoff(0, 1_000, 60_000, () => 1)).toBe(1_000);
  });
});
