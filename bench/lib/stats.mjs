// Small statistics helpers: percentiles over raw samples, medians and min–max of ratios.

export function percentile(samples, p) {
  if (!samples.length) {
    return NaN;
  }
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function median(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  if (!finite.length) {
    return NaN;
  }
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function minMax(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length ? [Math.min(...finite), Math.max(...finite)] : [NaN, NaN];
}

/** Median ratio and its min–max over paired rounds. */
export function ratioSummary(candidate, baseline) {
  const ratios = candidate.map((c, i) => c / baseline[i]).filter((r) => Number.isFinite(r));
  const [min, max] = minMax(ratios);
  return { median: median(ratios), min, max, ratios };
}

export function round(value, digits = 2) {
  if (!Number.isFinite(value)) {
    return value;
  }
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Monotonic clock shared by every process on the machine (CLOCK_MONOTONIC), in ms. */
export function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}
