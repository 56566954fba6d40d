// The shared method of the HTTP scenarios: warm-up, then rounds in which every target (candidates
// and baselines, interleaved A B A B) runs a closed-loop maximum-throughput load (autocannon); then
// rounds at a fixed rate (a fraction of the reference baseline's best round) for latency, open
// loop (oha: requests due at evenly spaced times, latency from the time each was due). Rounds where
// the load generator saturated its core are discarded (kept, flagged, only when every round saturated).
import { httpLoad, openLoopLoad } from './http-load.mjs';
import { processCpuSeconds } from './procs.mjs';
import { median, minMax, round } from './stats.mjs';

function keepUnsaturated(runs) {
  const clean = runs.filter((r) => !r.saturated);
  return { used: clean.length ? clean : runs, discarded: clean.length ? runs.length - clean.length : 0, allSaturated: !clean.length && runs.length > 0 };
}

export function summarize(runs) {
  const { used, discarded, allSaturated } = keepUnsaturated(runs);
  const rps = used.map((r) => r.rps);
  const [min, max] = minMax(rps);
  return {
    rps: median(rps),
    rpsMin: min,
    rpsMax: max,
    p50: median(used.map((r) => r.p50)),
    p99: median(used.map((r) => r.p99)),
    loadgenCpu: median(runs.map((r) => r.loadgenCpu)),
    serverCpu: median(used.map((r) => r.serverCpu)),
    dbCpu: median(used.map((r) => r.dbCpu ?? NaN)),
    rounds: runs.length,
    discarded,
    loadgenBound: allSaturated,
    errors: runs.reduce((s, r) => s + r.errors + r.timeouts, 0),
    unexpected: runs.reduce((s, r) => s + Object.entries(r.statuses).filter(([code]) => Number(code) !== r.expect).reduce((a, [, n]) => a + n, 0), 0),
  };
}

/** Runs one load against a target and adds the CPU its server (and database) used meanwhile, in cores. */
export async function measure(target, spec, load = httpLoad) {
  const before = processCpuSeconds(target.pid);
  const dbBefore = target.dbPid ? processCpuSeconds(target.dbPid) : NaN;
  const t0 = performance.now();
  const result = await load(spec);
  const wall = (performance.now() - t0) / 1000;
  result.serverCpu = (processCpuSeconds(target.pid) - before) / wall;
  result.dbCpu = target.dbPid ? (processCpuSeconds(target.dbPid) - dbBefore) / wall : undefined;
  result.expect = spec.expectStatus ?? 200;
  return result;
}

/**
 * Closed-loop maxima: `rounds` rounds (`ctx.rounds` by default), every target once per round
 * (A B A B), with `load` (autocannon by default). Returns the runs per target key.
 */
export async function maxRounds(ctx, targets, { connections = 32, load = httpLoad, name = 'max', rounds = ctx.rounds } = {}) {
  const maxRuns = Object.fromEntries(targets.map((t) => [t.key, []]));
  for (let r = 0; r < rounds; r += 1) {
    for (const target of targets) {
      const result = await measure(target, { url: target.url, connections, ...target.request, duration: ctx.durations.http }, load);
      maxRuns[target.key].push(result);
      ctx.progress(`round ${r + 1}/${rounds} ${name} ${target.label}: ${Math.round(result.rps)} req/s, p99 ${round(result.p99)} ms, load generator ${round(result.loadgenCpu)} core, server ${round(result.serverCpu)} core${result.saturated ? ' (saturated: discarded)' : ''}`);
    }
  }
  return maxRuns;
}

/**
 * targets: [{ key, label, url, request: { path, method, headers, body, randomPath, todoBody, expectStatus }, pid }]
 * ratePlan: fractions of the reference's max rate for the fixed-rate latency runs (e.g. [0.25, 0.5, 0.75]).
 * maxLoad, fixedLoad: the load generators of the maxima (autocannon) and of the fixed rates (oha).
 */
export async function runHttpScenario(ctx, { targets, reference, connections = 32, ratePlan = [0.5], maxLoad = httpLoad, fixedLoad = openLoopLoad }) {
  const { durations, rounds, progress } = ctx;
  const spec = (target, extra) => ({ url: target.url, connections, ...target.request, ...extra });

  for (const target of durations.warmup > 0 ? targets : []) {
    progress(`warm-up ${target.label}`);
    await measure(target, spec(target, { duration: durations.warmup }), maxLoad);
  }
  const maxRuns = await maxRounds(ctx, targets, { connections, load: maxLoad });
  const max = Object.fromEntries(targets.map((t) => [t.key, summarize(maxRuns[t.key])]));
  // The best of the reference's rounds (those kept): a stall of the machine only lowers a closed-loop
  // maximum, so the median of a few rounds can sit well below what the baseline sustains.
  const referenceRate = max[reference].rpsMax;
  const fixed = {};
  for (const fraction of ratePlan) {
    const rate = Math.max(10, Math.round(referenceRate * fraction));
    const runs = Object.fromEntries(targets.map((t) => [t.key, []]));
    // The 50% point is the one with a target: all rounds. Other points only shape the chart: one round.
    const levelRounds = fraction === 0.5 ? rounds : 1;
    for (let r = 0; r < levelRounds; r += 1) {
      for (const target of targets) {
        const result = await measure(target, spec(target, { duration: durations.http, overallRate: rate, connections: Math.min(connections, 16) }), fixedLoad);
        runs[target.key].push(result);
        progress(`round ${r + 1}/${levelRounds} at ${Math.round(fraction * 100)}% (${rate} req/s) ${target.label}: p50 ${round(result.p50, 3)} ms, p99 ${round(result.p99, 3)} ms`);
      }
    }
    fixed[fraction] = { rate, ...Object.fromEntries(targets.map((t) => [t.key, summarize(runs[t.key])])) };
    fixed[fraction].raw = runs;
  }
  return { max, maxRuns, fixed, referenceRate };
}

/**
 * Per-round throughput ratios candidate/baseline (paired by round), median and range. A pair in which
 * either side's load generator saturated is left out, as saturated rounds are left out of the maxima:
 * that side's figure is the load generator's, not the server's. When every pair has a saturated side,
 * all are kept and the ratio is flagged `loadgenBound`.
 */
export function pairedRatio(maxRuns, candidate, baseline) {
  const pairs = maxRuns[candidate]
    .map((run, i) => [run, maxRuns[baseline][i]])
    .filter(([c, b]) => b !== undefined && Number.isFinite(c.rps / b.rps));
  const clean = pairs.filter(([c, b]) => !c.saturated && !b.saturated);
  const used = clean.length ? clean : pairs;
  const ratios = used.map(([c, b]) => c.rps / b.rps);
  const [min, max] = minMax(ratios);
  return {
    median: median(ratios),
    min,
    max,
    pairs: pairs.length,
    discarded: clean.length ? pairs.length - clean.length : 0,
    loadgenBound: clean.length === 0 && pairs.length > 0,
  };
}

export function latencyChart(title, result, targets) {
  const series = [];
  for (const target of targets) {
    const points99 = [];
    const points50 = [];
    for (const fraction of Object.keys(result.fixed)) {
      const s = result.fixed[fraction][target.key];
      points99.push([result.fixed[fraction].rate, s.p99]);
      points50.push([result.fixed[fraction].rate, s.p50]);
    }
    const m = result.max[target.key];
    points99.push([m.rps, m.p99]);
    points50.push([m.rps, m.p50]);
    series.push({ name: `${target.label} p99`, points: points99 });
    series.push({ name: `${target.label} p50`, points: points50, dashed: true });
  }
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
  series.forEach((s, i) => (s.color = colors[Math.floor(i / 2) % colors.length]));
  return { title, xLabel: 'offered load (req/s; last point: closed-loop maximum)', yLabel: 'latency (ms)', series };
}

/** One line per scenario on the load generator's own CPU and the rounds discarded for saturation. */
export function loadgenNote(result, targets) {
  const parts = targets.map((t) => {
    const s = result.max[t.key];
    const flag = s.loadgenBound ? ' — every round saturated it: this maximum is a lower bound (load-generator bound)' : s.discarded ? ` — ${s.discarded}/${s.rounds} rounds discarded` : '';
    const db = Number.isFinite(s.dbCpu) ? `, FerretDB ${round(s.dbCpu)} core` : '';
    return `${t.label} ${round(s.loadgenCpu)} core, server ${round(s.serverCpu)} core${db}${flag}`;
  });
  return `closed-loop maxima, median CPU of the load generator and of the server: ${parts.join('; ')}`;
}
