// Scenario 6: POST /todos/{id}/complete/downstream at a fixed rate → the user's client receives and
// acknowledges the event. Candidate: todo-service → event-gateway. Baseline: the same chain built
// raw (Fastify + mongodb → raw socket.io), which stores nothing and retries nothing.
import { MongoClient } from 'mongodb';
import { rateLoad } from '../lib/http-load.mjs';
import { SocketPool, clientKind } from '../lib/sockets.mjs';
import { median, minMax, percentile, round } from '../lib/stats.mjs';

export const name = 'end-to-end';
export const title = 'End to end: complete/downstream → client acknowledgement at a fixed rate';

const DB = 'bench_e2e';
const PCTS = [50, 75, 90, 95, 99, 99.9, 100];

/**
 * Seeds the round's todos straight into the side's collection (the todo-service's document model:
 * `_id` is the todoid in decimal), after removing the previous round's: both sides then complete
 * todos from a collection of the same size. Creating them through POST /todos took minutes on
 * FerretDB (its findAndModify is not atomic, so concurrent creates retry) and is not what this
 * scenario measures.
 */
async function seedTodos(mongoUri, collection, users, count, firstId) {
  const client = new MongoClient(mongoUri);
  await client.connect();
  try {
    const todos = client.db().collection(collection);
    await todos.deleteMany({});
    const now = new Date();
    const ids = Array.from({ length: count }, (_, i) => firstId + i);
    for (let start = 0; start < count; start += 1_000) {
      await todos.insertMany(
        ids.slice(start, start + 1_000).map((todoid, i) => ({
          _id: String(todoid),
          todoid,
          userid: users[(start + i) % users.length],
          content: { title: `e2e ${todoid}` },
          completed: false,
          completedAt: null,
          createdAt: now,
          updatedAt: now,
        })),
        { ordered: false },
      );
    }
    return ids;
  } finally {
    await client.close();
  }
}

async function ackedCount(url, ids) {
  let acked = 0;
  let index = 0;
  async function lane() {
    while (index < ids.length) {
      const id = ids[index++];
      const body = await (await fetch(`${url}/todos/${id}`)).json();
      if (body.downstream?.status === 'acked') {
        acked += 1;
      }
    }
  }
  await Promise.all(Array.from({ length: 16 }, lane));
  return acked;
}

export async function run(ctx) {
  const { progress } = ctx;
  const mongo = await ctx.mongo();
  const redis = await ctx.redis();
  const mongoUri = `${mongo.url}/${DB}`;
  const client = new MongoClient(mongoUri);
  await client.connect();
  for (const collection of ['todos', 'baseline_todos']) {
    await client.db().collection(collection).createIndex({ todoid: 1 }, { unique: true });
  }
  await client.db().collection('bench_baseline_counters').updateOne({ _id: 'todoid' }, { $setOnInsert: { seq: 0 } }, { upsert: true });
  await client.close();
  const auth = await ctx.service('auth-service', { REDIS_URL: redis.url });
  const gateway = await ctx.service('event-gateway', { REDIS_URL: redis.url });
  const todo = await ctx.service('todo-service', { REDIS_URL: redis.url, MONGODB_URI: mongoUri, EVENT_API_URL: gateway.url });
  const raw = await ctx.baseline('raw-socketio.mjs', { REDIS_URL: redis.url });
  const rawTodo = await ctx.baseline('todo-fastify-mongo.mjs', { MONGODB_URI: mongoUri, TODO_COLLECTION: 'baseline_todos', COUNTER_COLLECTION: 'bench_baseline_counters', EVENT_API_URL: raw.url });
  const { rate, seconds, users: U } = ctx.e2e;
  const users = Array.from({ length: U }, (_, i) => `bench-e2e-${i}`);
  const clients = await ctx.tokens(auth.url, users);
  const targets = [
    { key: 'candidate', label: 'todo-service → event-gateway', todoUrl: todo.url, socketUrl: gateway.url, collection: 'todos' },
    { key: 'baseline', label: 'Fastify+mongodb → raw socket.io', todoUrl: rawTodo.url, socketUrl: raw.url, collection: 'baseline_todos' },
  ];
  for (const t of targets) {
    t.pool = new SocketPool(1, { client: ctx.client });
    ctx.own({ close: () => t.pool.close() });
    const result = await t.pool.connect(t.socketUrl, clients);
    if (result.connected < U) {
      throw new Error(`${t.label}: ${result.connected}/${U} sockets connected: ${JSON.stringify(result.failures)}`);
    }
  }
  const count = Math.round(rate * seconds);
  const runs = { candidate: [], baseline: [] };
  // Warm-up, discarded: each chain completes todos at the rate for a few seconds first (JIT, the
  // MongoDB connection pools growing to the load, FerretDB's caches).
  const warmupCount = Math.round(rate * (ctx.e2e.warmupSeconds ?? 0));
  for (const t of warmupCount > 0 ? targets : []) {
    progress(`warm-up ${t.label}: completing ${warmupCount} at ${rate}/s`);
    const ids = await seedTodos(mongoUri, t.collection, users, warmupCount, 1_000_000);
    await t.pool.reset();
    const load = await rateLoad({ base: t.todoUrl, kind: 'complete', todoids: ids, rate, durationS: ctx.e2e.warmupSeconds, connections: 16, expectStatus: 200 });
    await t.pool.settle(load.sendTimes.filter(([, , status]) => status === 200).length, { timeoutMs: 30_000, quietMs: 2_000 });
  }
  for (let r = 0; r < ctx.rounds; r += 1) {
    for (const t of targets) {
      progress(`round ${r + 1}/${ctx.rounds} ${t.label}: seeding ${count} todos`);
      const ids = await seedTodos(mongoUri, t.collection, users, count, 1 + r * count);
      await t.pool.reset();
      progress(`round ${r + 1}/${ctx.rounds} ${t.label}: completing ${count} at ${rate}/s for ${seconds} s`);
      const load = await rateLoad({ base: t.todoUrl, kind: 'complete', todoids: ids, rate, durationS: seconds, connections: 16, expectStatus: 200 });
      const completed = load.sendTimes.filter(([, , status]) => status === 200);
      await t.pool.settle(completed.length, { timeoutMs: 30_000, quietMs: 10_000 });
      const got = await t.pool.collect();
      const arrivals = new Map();
      for (const [todoid, at] of got.todoArrivals) {
        if (!arrivals.has(todoid) || arrivals.get(todoid) > at) {
          arrivals.set(todoid, at);
        }
      }
      const latencies = [];
      let lost = 0;
      for (const [todoid, sentAt] of completed) {
        if (arrivals.has(todoid)) {
          latencies.push(arrivals.get(todoid) - sentAt);
        } else {
          lost += 1;
        }
      }
      const run = {
        planned: count,
        sent: load.sent,
        completions: completed.length,
        generatorBehind: load.behind,
        statuses: load.statuses,
        received: arrivals.size,
        lost,
        duplicates: got.received - arrivals.size,
        percentiles: Object.fromEntries(PCTS.map((p) => [p, percentile(latencies, p)])),
        httpP99: load.httpP99,
        loadgenCpu: load.loadgenCpu,
      };
      if (t.key === 'candidate') {
        // Receipts: each todo's downstream.status becomes `acked` within 2 s of the ack (SPEC 3).
        const deadline = Date.now() + (ctx.smoke ? 3_000 : 10_000);
        do {
          run.acked = await ackedCount(t.todoUrl, completed.map(([todoid]) => todoid));
        } while (run.acked < completed.length && Date.now() < deadline && (await new Promise((res) => setTimeout(res, 500))) === undefined);
      }
      runs[t.key].push(run);
      progress(`round ${r + 1}/${ctx.rounds} ${t.label}: ${run.completions}/${count} completions answered 200 (sent ${run.sent}${run.generatorBehind ? ', generator fell behind: the server did not keep up' : ''}), ${run.received} received, lost ${run.lost}, p50 ${round(run.percentiles[50], 1)} ms, p99 ${round(run.percentiles[99], 1)} ms${run.acked !== undefined ? `, receipts acked ${run.acked}/${run.completions}` : ''}`);
    }
  }
  for (const t of targets) {
    await t.pool.disconnect();
  }
  const sum = Object.fromEntries(
    targets.map((t) => [t.key, { p50: median(runs[t.key].map((x) => x.percentiles[50])), p99: median(runs[t.key].map((x) => x.percentiles[99])), lost: runs[t.key].reduce((s, x) => s + x.lost, 0) }]),
  );
  const ratios = runs.candidate.map((c, i) => c.percentiles[99] / runs.baseline[i].percentiles[99]);
  const [min, max] = minMax(ratios);
  const acked = runs.candidate.reduce((s, x) => s + (x.acked ?? 0), 0);
  const total = runs.candidate.reduce((s, x) => s + x.completions, 0);
  const planned = count * ctx.rounds;
  const fellBehind = Object.fromEntries(targets.map((t) => [t.key, runs[t.key].some((x) => x.generatorBehind || x.completions < x.planned)]));
  return {
    rows: [
      {
        scenario: `End to end, ${rate} completions/s for ${seconds} s (${U} users)`,
        baseline: `raw chain: p50 ${round(sum.baseline.p50, 1)} / p99 ${round(sum.baseline.p99, 1)} ms, lost ${sum.baseline.lost}${fellBehind.baseline ? ' (did not keep up with the rate)' : ''}`,
        candidate: `todo-service → gateway: p50 ${round(sum.candidate.p50, 1)} / p99 ${round(sum.candidate.p99, 1)} ms, ${total}/${planned} completions answered 200, lost ${sum.candidate.lost}, receipts acked ${acked}/${total}${fellBehind.candidate ? ' (did not keep up with the rate)' : ''}`,
        ratio: { median: median(ratios), min, max },
        ratioNote: 'p99 latency ratio (lower is better)',
        latency: `p50 ${round(sum.candidate.p50, 1)} / p99 ${round(sum.candidate.p99, 1)} ms`,
        target: 'p99 ≤ 100 ms and zero lost',
        met: sum.candidate.p99 <= 100 && sum.candidate.lost === 0 && !fellBehind.candidate,
      },
    ],
    chart: {
      title: `End to end: completion → client receipt latency percentiles (${rate}/s, ${seconds} s)`,
      xLabel: 'percentile rank (50 … 100; points at 50, 75, 90, 95, 99, 99.9, 100)',
      yLabel: 'latency (ms)',
      series: targets.map((t) => ({ name: t.label, points: PCTS.map((p) => [p, median(runs[t.key].map((x) => x.percentiles[p]))]) })),
    },
    data: { runs },
    conditions: [
      `open-loop generator (undici, 16 connections, one long-lived process) at ${rate}/s for ${seconds} s per round, ${ctx.rounds} rounds interleaved, after a ${ctx.e2e.warmupSeconds ?? 0} s warm-up per chain (discarded); latency = client receipt − POST send on CLOCK_MONOTONIC; the client acknowledges on receipt`,
      `${U} users, one socket each, in one client process (${clientKind(ctx.client)}); each round's ${count} todos seeded just before it into the chain's emptied collection (the todo-service's document model), in one FerretDB 1.24 process (SQLite backend, WAL with synchronous=NORMAL) shared by both chains`,
      'lost = completions answered 200 whose event no client received by the time arrivals stopped for 10 s (at most 30 s after the last answer); receipts = todos whose downstream.status read back as acked (candidate only)',
    ],
  };
}
