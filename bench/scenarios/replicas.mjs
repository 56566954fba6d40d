// Scenario 7: two event-gateway replicas on one Redis. Sockets are on replica B; the candidate posts
// the events to replica A (they cross Redis to reach the sockets), the baseline posts them to B,
// where the sockets are (the one-replica path).
import { EMIT_CONNECTIONS, saturationNote, stepToSaturation, targetedStep, warmUp, warmUpRate } from '../lib/emits.mjs';
import { SocketPool, clientKind } from '../lib/sockets.mjs';
import { medianByOffered } from './gateway.mjs';
import { median, minMax, round } from '../lib/stats.mjs';

export const name = 'replicas';
export const title = 'Two gateway replicas (events cross Redis) vs one (events posted where the sockets are)';

export async function run(ctx) {
  const { progress } = ctx;
  const redis = await ctx.redis();
  const auth = await ctx.service('auth-service', { REDIS_URL: redis.url });
  const a = await ctx.service('event-gateway', { REDIS_URL: redis.url }, '-a');
  const b = await ctx.service('event-gateway', { REDIS_URL: redis.url }, '-b');
  const S = ctx.replicaSockets;
  const users = Array.from({ length: S }, (_, i) => `bench-rep-${i}`);
  const clients = await ctx.tokens(auth.url, users);
  const pool = new SocketPool(Math.min(2, ctx.socketProcesses), { client: ctx.client });
  ctx.own({ close: () => pool.close() });
  const connected = await pool.connect(b.url, clients);
  if (connected.connected < S) {
    throw new Error(`${connected.connected}/${S} sockets connected to replica B: ${JSON.stringify(connected.failures)}`);
  }
  const targets = [
    { key: 'candidate', label: 'POST to A, sockets on B', url: a.url },
    { key: 'baseline', label: 'POST to B, sockets on B', url: b.url },
  ];
  const runs = { candidate: [], baseline: [] };
  const halves = { candidate: [], baseline: [] };
  for (const t of targets) {
    await warmUp(pool, t.url, users, ctx.emitSteps, ctx.stepSeconds, [a.pid, b.pid, redis.pid], progress, t.label);
  }
  for (let r = 0; r < ctx.rounds; r += 1) {
    for (const t of targets) {
      runs[t.key].push(await stepToSaturation(pool, t.url, users, ctx.emitSteps, ctx.stepSeconds, [a.pid, b.pid, redis.pid], progress, `round ${r + 1}/${ctx.rounds} ${t.label}`));
    }
    for (const t of targets) {
      const rate = Math.max(10, Math.round(runs.baseline[r].saturation * 0.5));
      const half = await targetedStep(pool, t.url, users, rate, ctx.stepSeconds * 2, [a.pid, b.pid, redis.pid]);
      halves[t.key].push(half);
      progress(`round ${r + 1}/${ctx.rounds} ${t.label} at ${rate}/s: p50 ${round(half.p50)} ms, p99 ${round(half.p99)} ms`);
    }
  }
  await pool.disconnect();
  const ratios = runs.candidate.map((c, i) => c.saturation / runs.baseline[i].saturation);
  const [min, max] = minMax(ratios);
  const sat = Object.fromEntries(targets.map((t) => [t.key, median(runs[t.key].map((x) => x.saturation))]));
  const half = Object.fromEntries(targets.map((t) => [t.key, { p50: median(halves[t.key].map((h) => h.p50)), p99: median(halves[t.key].map((h) => h.p99)), rate: median(halves[t.key].map((h) => h.offered)) }]));
  return {
    rows: [
      {
        scenario: `Two replicas, cross-replica targeted emits, ${S} sockets`,
        baseline: `one replica path: ${Math.round(sat.baseline)} deliveries/s; at ${Math.round(half.baseline.rate)}/s p50 ${round(half.baseline.p50, 1)} / p99 ${round(half.baseline.p99, 1)} ms`,
        candidate: `cross-replica: ${Math.round(sat.candidate)} deliveries/s`,
        ratio: { median: median(ratios), min, max },
        latency: `cross-replica at ${Math.round(half.candidate.rate)}/s: p50 ${round(half.candidate.p50, 1)} / p99 ${round(half.candidate.p99, 1)} ms`,
        target: 'report (no target in the issue)',
        met: null,
      },
    ],
    chart: {
      title: 'Two replicas: p99 POST → client latency against offered rate',
      xLabel: 'offered events/s',
      yLabel: 'p99 latency (ms)',
      series: targets.map((t) => ({ name: t.label, points: medianByOffered(runs[t.key], 'p99') })),
    },
    data: { runs, halves },
    conditions: [
      `${S} sockets (one per user) on replica B in ${Math.min(2, ctx.socketProcesses)} client processes (${clientKind(pool.client)}); both replicas, Redis, the clients and the generator share the 2 cores`,
      `one discarded warm-up step per target (${warmUpRate(ctx.emitSteps)}/s for ${ctx.stepSeconds} s), then steps ${ctx.emitSteps.join(', ')} events/s of ${ctx.stepSeconds} s from one long-lived generator process (undici, ${EMIT_CONNECTIONS} connections), until the throughput stops growing (past the knee and ≤ 5% above the best step); latency at 50% of the one-replica saturation`,
      saturationNote(runs, { candidate: 'cross-replica', baseline: 'one replica path' }, ['replica A', 'replica B', 'Redis']),
    ],
  };
}
