// Scenarios 3–5 on one set of connections (connecting 10,000 sockets is the slow part, so the
// three share it): idle memory per socket, targeted emits stepped to saturation, 1 KB broadcasts.
// Candidate: the event-gateway; baseline: a raw socket.io server with the same Redis adapter and
// the same handshake auth check (bench/baselines/raw-socketio.mjs). Both hold the same N sockets.
import { join } from 'node:path';
import { EMIT_CONNECTIONS, broadcasts, saturationNote, stepToSaturation, targetedStep, warmUp, warmUpRate } from '../lib/emits.mjs';
import { withCpu } from '../lib/procs.mjs';
import { SocketPool, clientKind } from '../lib/sockets.mjs';
import { median, minMax, round } from '../lib/stats.mjs';

export const name = 'gateway';
export const covers = ['gateway-idle', 'gateway-emits', 'gateway-broadcast'];
export const title = 'event-gateway: idle sockets, targeted emits, broadcast vs a raw socket.io server';

const KB = 1024;

/** One point per offered rate: the median over the rounds that reached that step. */
export function medianByOffered(runs, field) {
  const byRate = new Map();
  for (const run of runs) {
    for (const step of run.steps) {
      byRate.set(step.offered, [...(byRate.get(step.offered) ?? []), step[field]]);
    }
  }
  return [...byRate.entries()].map(([rate, values]) => [rate, median(values)]).sort((a, b) => a[0] - b[0]);
}

function ratioOf(values) {
  const [min, max] = minMax(values);
  return { median: median(values), min, max };
}

export async function run(ctx) {
  const { progress } = ctx;
  const redis = await ctx.redis();
  const auth = await ctx.service('auth-service', { REDIS_URL: redis.url });
  const gateway = await ctx.service('event-gateway', { REDIS_URL: redis.url });
  const raw = await ctx.baseline('raw-socketio.mjs', { REDIS_URL: redis.url });
  const N = ctx.sockets;
  const users = Array.from({ length: N }, (_, i) => `bench-gw-${i}`);
  progress(`issuing ${N} tokens`);
  const clients = await ctx.tokens(auth.url, users);
  const targets = [
    { key: 'candidate', label: 'event-gateway', server: gateway },
    { key: 'baseline', label: 'raw socket.io', server: raw },
  ];
  const empty = {};
  for (const t of targets) {
    if (ctx.heapSnapshots) {
      // Before the empty reading, so that the snapshot's own RSS growth is in both readings.
      await t.server.snapshot(join(ctx.profileDir, `${t.key}-0-sockets.heapsnapshot`));
    }
    empty[t.key] = await t.server.memory();
  }
  for (const t of targets) {
    t.pool = new SocketPool(ctx.socketProcesses, { client: ctx.client });
    ctx.own({ close: () => t.pool.close() });
    progress(`connecting ${N} sockets to ${t.label} from ${ctx.socketProcesses} processes`);
    const result = await t.pool.connect(t.server.url, clients, { concurrency: 20 });
    progress(`${t.label}: ${result.connected}/${N} connected in ${Math.round(result.ms)} ms${Object.keys(result.failures).length ? `, failures ${JSON.stringify(result.failures)}` : ''}`);
    if (result.connected < N) {
      throw new Error(`${t.label}: only ${result.connected}/${N} sockets connected: ${JSON.stringify(result.failures)}`);
    }
    t.connectMs = result.ms;
  }
  await new Promise((r) => setTimeout(r, ctx.smoke ? 200 : 2_000));

  // 3. idle memory, measured after a full GC in each process, rounds interleaved.
  const idle = { candidate: [], baseline: [] };
  for (let r = 0; r < ctx.rounds; r += 1) {
    for (const t of targets) {
      const mem = await t.server.memory();
      idle[t.key].push({ heapPerSocket: (mem.heapUsed - empty[t.key].heapUsed) / N, rssPerSocket: (mem.rss - empty[t.key].rss) / N, heapUsed: mem.heapUsed, rss: mem.rss });
    }
  }
  // Idle CPU with N sockets (heartbeats, registry refresh, inbox polling, engine.io pings).
  const idleSeconds = ctx.smoke ? 1 : 10;
  const idleCpu = {};
  for (const t of targets) {
    const { cores } = await withCpu([t.server.pid, redis.pid], () => new Promise((r) => setTimeout(r, idleSeconds * 1000)));
    idleCpu[t.key] = cores.map((c) => round(c, 3));
  }
  progress(`idle CPU over ${idleSeconds} s with ${N} sockets: event-gateway ${idleCpu.candidate[0]} core (Redis ${idleCpu.candidate[1]}), raw socket.io ${idleCpu.baseline[0]} core (Redis ${idleCpu.baseline[1]})`);
  const heap = Object.fromEntries(targets.map((t) => [t.key, median(idle[t.key].map((m) => m.heapPerSocket))]));
  const rss = Object.fromEntries(targets.map((t) => [t.key, median(idle[t.key].map((m) => m.rssPerSocket))]));
  if (ctx.heapSnapshots) {
    for (const t of targets) {
      await t.server.snapshot(join(ctx.profileDir, `${t.key}-${N}-sockets.heapsnapshot`));
    }
    progress(`heap snapshots in ${ctx.profileDir} (summarize: node bench/tools/heap-summary.mjs <after> 30 <before>)`);
  }
  const heapRatio = ratioOf(idle.candidate.map((m, i) => m.heapPerSocket / idle.baseline[i].heapPerSocket));
  progress(`idle: heap/socket ${round(heap.candidate / KB)} KB vs ${round(heap.baseline / KB)} KB, RSS/socket ${round(rss.candidate / KB)} KB vs ${round(rss.baseline / KB)} KB`);

  // 4. targeted emits stepped to saturation, then at 50% of each one's own saturation.
  const emits = { candidate: [], baseline: [] };
  const halves = { candidate: [], baseline: [] };
  for (const t of targets) {
    await warmUp(t.pool, t.server.url, users, ctx.emitSteps, ctx.stepSeconds, [t.server.pid, redis.pid], progress, t.label);
  }
  for (let r = 0; r < ctx.rounds; r += 1) {
    for (const t of targets) {
      const result = await stepToSaturation(t.pool, t.server.url, users, ctx.emitSteps, ctx.stepSeconds, [t.server.pid, redis.pid], progress, `round ${r + 1}/${ctx.rounds} ${t.label}`);
      emits[t.key].push(result);
    }
    for (const t of targets) {
      const rate = Math.max(10, Math.round(emits[t.key][r].saturation * 0.5));
      const half = await targetedStep(t.pool, t.server.url, users, rate, ctx.stepSeconds * 2, [t.server.pid, redis.pid]);
      halves[t.key].push(half);
      progress(`round ${r + 1}/${ctx.rounds} ${t.label} at 50% of its saturation (${rate}/s): p50 ${round(half.p50)} ms, p99 ${round(half.p99)} ms, ${half.received}/${half.accepted} received`);
    }
  }
  const satRatio = ratioOf(emits.candidate.map((c, i) => c.saturation / emits.baseline[i].saturation));
  const sat = Object.fromEntries(targets.map((t) => [t.key, median(emits[t.key].map((e) => e.saturation))]));
  const halfP = Object.fromEntries(targets.map((t) => [t.key, { p50: median(halves[t.key].map((h) => h.p50)), p99: median(halves[t.key].map((h) => h.p99)), rate: median(halves[t.key].map((h) => h.offered)) }]));

  // 5. broadcasts of ~1 KB to every socket.
  const bcast = { candidate: [], baseline: [] };
  for (let r = 0; r < ctx.rounds; r += 1) {
    for (const t of targets) {
      bcast[t.key].push(await broadcasts(t.pool, t.server.url, ctx.broadcasts, N, t.server.pid, progress, `round ${r + 1}/${ctx.rounds} ${t.label}`));
    }
  }
  const bc = Object.fromEntries(
    targets.map((t) => [
      t.key,
      {
        timeToLastMs: median(bcast[t.key].map((b) => b.timeToLastMs)),
        perSecond: median(bcast[t.key].map((b) => b.deliveriesPerSecond)),
        perCpuSecond: median(bcast[t.key].map((b) => b.deliveriesPerCpuSecond)),
        complete: bcast[t.key].every((b) => b.complete),
      },
    ]),
  );
  const bcRatio = ratioOf(bcast.candidate.map((c, i) => c.deliveriesPerSecond / bcast.baseline[i].deliveriesPerSecond));

  for (const t of targets) {
    await t.pool.disconnect();
  }
  const clientNote = `${N} sockets (websocket transport, one per user; ${clientKind(ctx.client)}) in ${ctx.socketProcesses} client processes per server, which share the 2 cores with the server under test`;
  return {
    parts: [
      {
        name: 'gateway-idle',
        title: `Gateway idle: ${N} authenticated sockets, heap and RSS per socket vs raw socket.io`,
        rows: [
          {
            scenario: `Gateway idle, ${N} sockets`,
            baseline: `raw socket.io: heap ${round(heap.baseline / KB, 1)} KB, RSS ${round(rss.baseline / KB, 1)} KB per socket`,
            candidate: `event-gateway: heap ${round(heap.candidate / KB, 1)} KB, RSS ${round(rss.candidate / KB, 1)} KB per socket`,
            ratio: heapRatio,
            latency: `connect ${N} sockets: ${Math.round(targets[0].connectMs)} ms vs ${Math.round(targets[1].connectMs)} ms; idle CPU ${idleCpu.candidate[0]} (+ Redis ${idleCpu.candidate[1]}) vs ${idleCpu.baseline[0]} (+ Redis ${idleCpu.baseline[1]}) core`,
            target: '≤ 12 KB heap per socket; ≤ 1.2× raw socket.io',
            met: heap.candidate <= 12 * KB && heapRatio.median <= 1.2,
            metDetail: `${heap.candidate <= 12 * KB ? 'KB met' : 'KB missed'}, ratio ${heapRatio.median <= 1.2 ? 'met' : 'missed'}`,
          },
        ],
        chart: {
          type: 'bar',
          title: `Memory per idle socket (${N} sockets, after full GC)`,
          yLabel: 'bytes per socket',
          series: [{ name: 'event-gateway' }, { name: 'raw socket.io' }],
          groups: [
            { label: 'heap used / socket', values: [heap.candidate, heap.baseline] },
            { label: 'RSS / socket', values: [rss.candidate, rss.baseline] },
          ],
        },
        data: { idle, empty, idleCpu, idleSeconds },
        conditions: [
          clientNote,
          'memory read inside each server (preloaded probe: two global.gc() then process.memoryUsage()) with 0 sockets and then with N sockets; per socket = difference ÷ N',
          'the gateway keeps per socket: a registry entry in Redis, a delivery loop record, a room, the admin-UI instrumentation; the raw server keeps only the room',
        ],
      },
      {
        name: 'gateway-emits',
        title: `Gateway targeted emits to users over ${N} sockets, stepped to saturation, vs raw socket.io`,
        rows: [
          {
            scenario: `Targeted emits (POST /events/{userid}/downstream → client), ${N} sockets`,
            baseline: `raw socket.io: saturates at ${Math.round(sat.baseline)} deliveries/s`,
            candidate: `event-gateway: saturates at ${Math.round(sat.candidate)} deliveries/s`,
            ratio: satRatio,
            latency: `at 50% of own saturation (${Math.round(halfP.candidate.rate)}/s): p50 ${round(halfP.candidate.p50, 1)} / p99 ${round(halfP.candidate.p99, 1)} ms (raw at ${Math.round(halfP.baseline.rate)}/s: ${round(halfP.baseline.p50, 1)} / ${round(halfP.baseline.p99, 1)} ms)`,
            target: '≥ 0.8× baseline throughput; p99 ≤ 50 ms at 50% of saturation',
            met: satRatio.median >= 0.8 && halfP.candidate.p99 <= 50,
            metDetail: `ratio ${satRatio.median >= 0.8 ? 'met' : 'missed'}, p99 ${halfP.candidate.p99 <= 50 ? 'met' : 'missed'}`,
          },
        ],
        chart: {
          title: 'Targeted emits: POST → client receipt latency (p99) against offered rate',
          xLabel: 'offered events/s',
          yLabel: 'p99 latency (ms)',
          series: targets.map((t) => ({ name: `${t.label} p99`, points: medianByOffered(emits[t.key], 'p99') })).concat(
            targets.map((t) => ({ name: `${t.label} p50`, dashed: true, points: medianByOffered(emits[t.key], 'p50') })),
          ).map((s, i) => ({ ...s, color: ['#1f77b4', '#d62728'][i % 2] })),
        },
        data: { emits, halves },
        conditions: [
          clientNote,
          `open-loop generator (undici, ${EMIT_CONNECTIONS} connections) in its own long-lived process (compiled and connected after the first step), one discarded warm-up step per server (${warmUpRate(ctx.emitSteps)}/s for ${ctx.stepSeconds} s), then steps ${ctx.emitSteps.join(', ')} events/s of ${ctx.stepSeconds} s, until the throughput stops growing (a step past the knee, < 85% delivered or the generator behind, that delivers ≤ 5% above the best step before it, ends the ladder); latency = client receipt − POST send on CLOCK_MONOTONIC`,
          saturationNote(emits, { candidate: 'event-gateway', baseline: 'raw socket.io' }, ['server', 'Redis']),
          '"server CPU a+b" in the progress and results.json = server process + Redis, in cores',
          'the gateway stores every event in the user\'s Redis inbox, announces it over Redis pub/sub, emits with an acknowledgement and removes it on ack (at-least-once); the raw server only emits to the room: the ratio is the price of durability',
        ],
      },
      {
        name: 'gateway-broadcast',
        title: `Gateway broadcast of a 1 KB event to ${N} sockets vs raw socket.io`,
        rows: [
          {
            scenario: `Broadcast 1 KB to ${N} sockets`,
            baseline: `raw socket.io: last client after ${round(bc.baseline.timeToLastMs, 1)} ms, ${Math.round(bc.baseline.perSecond)} deliveries/s`,
            candidate: `event-gateway: last client after ${round(bc.candidate.timeToLastMs, 1)} ms, ${Math.round(bc.candidate.perSecond)} deliveries/s; ${Math.round(bc.candidate.perCpuSecond)} per gateway CPU-second`,
            ratio: bcRatio,
            latency: `time to last client ${round(bc.candidate.timeToLastMs, 1)} ms`,
            target: '≥ 25,000 deliveries/s per gateway core',
            met: bc.candidate.complete && bc.candidate.perCpuSecond >= 25_000 && bc.candidate.perSecond >= 25_000,
            metDetail: `${Math.round(bc.candidate.perSecond)}/s wall, ${Math.round(bc.candidate.perCpuSecond)}/gateway CPU-s${bc.candidate.complete ? '' : '; NOT every socket got every broadcast'}`,
          },
        ],
        chart: {
          type: 'bar',
          title: `Broadcast 1 KB to ${N} sockets (median over ${ctx.rounds}×${ctx.broadcasts} broadcasts)`,
          yLabel: 'deliveries per second',
          series: [{ name: 'event-gateway' }, { name: 'raw socket.io' }, { name: 'target 25k' }],
          groups: [
            { label: 'deliveries/s (wall)', values: [bc.candidate.perSecond, bc.baseline.perSecond, 25_000] },
            { label: 'per server CPU-second', values: [bc.candidate.perCpuSecond, bc.baseline.perCpuSecond, 25_000] },
          ],
        },
        data: { bcast, summary: bc },
        conditions: [
          clientNote,
          'one broadcast at a time; time to last = last client receipt − POST send; deliveries/s = sockets ÷ that time; per CPU-second = sockets ÷ the server process CPU used until 300 ms after the last receipt (acks included)',
          'on 2 cores the clients parsing and acknowledging N messages compete with the server: the wall-clock figure is a lower bound of the server\'s rate',
        ],
      },
    ],
  };
}
