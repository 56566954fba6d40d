// Measurements on connected socket pools: targeted emits stepped up to saturation (POST → client
// receipt on the shared monotonic clock) and broadcasts (time until the last client has it).
import { rateLoad } from './http-load.mjs';
import { processCpuSeconds } from './procs.mjs';
import { median, nowMs, percentile, round } from './stats.mjs';

/**
 * HTTP connections the generator posts events over (one request in flight on each), so at most this
 * many POSTs wait for their answer at once and a server's throughput is at most EMIT_CONNECTIONS ÷
 * its answer time. The event-gateway answers once the event is stored in Redis (that is its
 * contract: `stored: true`), raw socket.io at once: with 32 connections the gateway topped out at
 * 0.65 of a core, bound by its answer time rather than by its CPU (bench/analysis.md). With 128
 * each server saturates its core; raw socket.io's maxima did not change.
 */
export const EMIT_CONNECTIONS = 128;

/** One fixed-rate step of targeted emits to `users` (one socket each) through `postUrl`. */
export async function targetedStep(pool, postUrl, users, rate, seconds, serverPids, { connections = EMIT_CONNECTIONS } = {}) {
  await pool.reset();
  const cpu0 = serverPids.map(processCpuSeconds);
  const t0 = nowMs();
  const load = await rateLoad({ base: postUrl, kind: 'targeted', users, rate, durationS: seconds, connections, maxInflight: 1024 });
  await pool.settle(load.accepted, { timeoutMs: 10_000, quietMs: 1_000 });
  const got = await pool.collect();
  const wall = (nowMs() - t0) / 1000;
  // Deliveries per second over the time from the first send to the last arrival.
  const window = got.lastAt > load.startedAt ? (got.lastAt - load.startedAt) / 1000 : load.seconds;
  return {
    offered: rate,
    sent: load.sent,
    accepted: load.accepted,
    statuses: load.statuses,
    received: got.received,
    duplicates: got.duplicates,
    deliveredRate: got.received / Math.max(window, load.sendSeconds),
    p50: percentile(got.latencies, 50),
    p99: percentile(got.latencies, 99),
    httpP99: load.httpP99,
    behind: load.behind,
    loadgenCpu: load.loadgenCpu,
    loadgenSaturated: load.saturated,
    clientCpu: got.cpu.map((c) => round(c)),
    serverCpu: serverPids.map((pid, i) => round((processCpuSeconds(pid) - cpu0[i]) / wall)),
  };
}

/** The rate of the warm-up step: the second of the steps (the first when there is one). */
export function warmUpRate(steps) {
  return steps[1] ?? steps[0];
}

/**
 * A discarded step at warmUpRate(steps) before the measured ones: the server's code paths, the
 * socket clients' and the generator's get compiled and its connections opened (the issue: warm-up
 * first).
 */
export async function warmUp(pool, postUrl, users, steps, seconds, serverPids, progress, label) {
  const rate = warmUpRate(steps);
  const step = await targetedStep(pool, postUrl, users, rate, seconds, serverPids);
  progress(`warm-up ${label} ${rate}/s for ${seconds} s (discarded): ${Math.round(step.deliveredRate)}/s delivered, p99 ${round(step.p99)} ms`);
}

/** A step past the knee must deliver this much more than the best step before it to go on. */
const STILL_GROWING = 1.05;

/** Whether the ladder ends after `step` at `rate` offered, `best` being the best step before it (see below). */
export function ladderEnds(step, rate, best) {
  const pastKnee = step.deliveredRate < 0.85 * rate || Boolean(step.behind);
  return Boolean(step.loadgenSaturated) || (pastKnee && step.deliveredRate <= STILL_GROWING * best);
}

/**
 * Steps the rate up until the throughput stops growing: a step past the knee (it delivers < 85% of
 * the offered rate, or the generator could not send at that rate) that delivers no more than 5%
 * above the best step before it ends the ladder, as does a generator at its own CPU limit. Every
 * server therefore reaches its plateau. (Stopping at the first step past the knee, as the bench did
 * until session 11, let a server that delivered 84% of a rung stop there while one that delivered
 * 86% went on to the next rung, where more load per turn of its event loop made it deliver more: the
 * ratio then measured which side of 85% each landed on.) Returns every step and the saturation
 * throughput, the best step's.
 */
export async function stepToSaturation(pool, postUrl, users, steps, seconds, serverPids, progress, label) {
  const results = [];
  for (const rate of steps) {
    const best = Math.max(0, ...results.map((s) => s.deliveredRate));
    const step = await targetedStep(pool, postUrl, users, rate, seconds, serverPids);
    results.push(step);
    progress(`${label} ${rate}/s offered: ${Math.round(step.deliveredRate)}/s delivered, p50 ${round(step.p50)} ms, p99 ${round(step.p99)} ms, server CPU ${step.serverCpu.join('+')}, clients ${step.clientCpu.join('+')}, generator ${round(step.loadgenCpu)}`);
    if (ladderEnds(step, rate, best)) {
      break;
    }
  }
  const saturation = Math.max(...results.map((s) => s.deliveredRate));
  const top = results.find((s) => s.deliveredRate === saturation);
  return { steps: results, saturation, atSaturation: top, loadgenBound: Boolean(top?.loadgenSaturated) };
}

/** What the processes used at each target's saturation step (median round): the limit of the figure. */
export function saturationNote(runsByTarget, labels, pidLabels) {
  return Object.entries(runsByTarget)
    .map(([key, runs]) => {
      const sorted = [...runs].sort((a, b) => a.saturation - b.saturation);
      const mid = sorted[Math.floor(sorted.length / 2)];
      const top = mid?.atSaturation;
      if (!top) {
        return `${labels[key]}: no step`;
      }
      const servers = top.serverCpu.map((c, i) => `${pidLabels[i]} ${c}`).join(', ');
      return `${labels[key]} at its saturation (${top.offered}/s offered, ${Math.round(top.deliveredRate)}/s delivered): CPU ${servers}, socket clients ${top.clientCpu.join('+')}, generator ${round(top.loadgenCpu)}${top.loadgenSaturated ? ' (saturated: the figure is a lower bound)' : ''}`;
    })
    .join('; ');
}

/** `count` broadcasts of a ~1 KB event, one at a time; each waits until every socket has it. */
export async function broadcasts(pool, url, count, sockets, serverPid, progress, label) {
  const pad = 'x'.repeat(1_000);
  const out = [];
  for (let i = 0; i < count; i += 1) {
    await pool.reset();
    const cpu0 = processCpuSeconds(serverPid);
    const t = nowMs();
    const response = await fetch(`${url}/events/downstream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'bench', data: { t, broadcast: true, pad } }),
    });
    const body = await response.json();
    await pool.settle(sockets, { timeoutMs: 30_000, quietMs: 2_000 });
    const got = await pool.collect();
    const lastMs = got.lastAt - t;
    // Let the acknowledgements drain before reading the server's CPU.
    await new Promise((r) => setTimeout(r, 300));
    const cpuSeconds = processCpuSeconds(serverPid) - cpu0;
    const entry = {
      status: response.status,
      delivered: body.delivered,
      received: got.received,
      timeToLastMs: lastMs,
      deliveriesPerSecond: got.received / (lastMs / 1000),
      serverCpuSeconds: cpuSeconds,
      deliveriesPerCpuSecond: cpuSeconds > 0 ? got.received / cpuSeconds : NaN,
      clientCpu: got.cpu.map((c) => round(c)),
    };
    out.push(entry);
    progress(`${label} broadcast ${i + 1}/${count}: ${got.received}/${sockets} in ${round(lastMs)} ms (${Math.round(entry.deliveriesPerSecond)}/s; ${Math.round(entry.deliveriesPerCpuSecond)} per server CPU-second)`);
  }
  return {
    runs: out,
    timeToLastMs: median(out.map((e) => e.timeToLastMs)),
    deliveriesPerSecond: median(out.map((e) => e.deliveriesPerSecond)),
    deliveriesPerCpuSecond: median(out.map((e) => e.deliveriesPerCpuSecond)),
    complete: out.every((e) => e.received >= sockets),
  };
}
