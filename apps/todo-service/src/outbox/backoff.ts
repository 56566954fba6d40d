/**
 * Delay before delivery attempt `attempt + 1`, after `attempt` failures (attempt ≥ 1):
 * exponential (base · 2^(attempt-1)) capped at `max`, with "equal jitter" — half fixed, half random —
 * so replicas that failed together do not retry in lockstep.
 */
export function computeBackoff(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 40);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}
