// Open-loop load generator process (forked once with IPC and kept: its code stays compiled and its
// connections open from one run to the next, so no run measures a cold generator). Each `run` sends
// POSTs at a fixed rate for a bounded time (and count), stamping each event with its send time on the
// machine-wide monotonic clock, and answers with sent/accepted counts, HTTP latencies, backlog (the
// generator fell behind) and the CPU this process used during the run.
//   kind "targeted":  POST /events/<user>/downstream   (users dealt round-robin)
//   kind "broadcast": POST /events/downstream with a padded payload
//   kind "complete":  POST /todos/<todoid>/complete/downstream (todoids in order); send times returned
import { Pool } from 'undici';
import { percentile } from '../lib/stats.mjs';

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
/** One connection pool per origin and size, kept between runs. */
const pools = new Map();

function poolFor(base, connections) {
  const key = `${base} ${connections}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = new Pool(base, { connections, pipelining: 1 });
    pools.set(key, pool);
  }
  return pool;
}

async function run(spec) {
  const pool = poolFor(spec.base, spec.connections ?? 32);
  const cpu0 = process.cpuUsage();
  const latencies = [];
  const statuses = {};
  const sendTimes = [];
  let sent = 0;
  let inflight = 0;
  let errors = 0;
  let maxBacklog = 0;
  const total = Math.max(1, Math.round(spec.rate * spec.durationS));
  const pad = spec.padBytes ? 'x'.repeat(spec.padBytes) : undefined;

  function nextRequest(i, t) {
    switch (spec.kind) {
      case 'targeted': {
        const user = spec.users[i % spec.users.length];
        return { path: `/events/${encodeURIComponent(user)}/downstream`, body: JSON.stringify({ type: 'bench', data: { t } }) };
      }
      case 'broadcast':
        return { path: '/events/downstream', body: JSON.stringify({ type: 'bench', data: { t, broadcast: true, pad } }) };
      case 'complete': {
        const todoid = spec.todoids[i % spec.todoids.length];
        const record = [todoid, t, 0];
        sendTimes.push(record);
        return { path: `/todos/${todoid}/complete/downstream`, body: undefined, record };
      }
      default:
        throw new Error(`unknown kind ${spec.kind}`);
    }
  }

  async function send(i) {
    const t = nowMs();
    const { path, body, record } = nextRequest(i, t);
    inflight += 1;
    try {
      const response = await pool.request({
        method: 'POST',
        path,
        body,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      await response.body.text();
      statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
      if (record) {
        record[2] = response.statusCode;
      }
      latencies.push(nowMs() - t);
    } catch {
      errors += 1;
    } finally {
      inflight -= 1;
    }
  }

  const start = nowMs();
  const maxInflight = spec.maxInflight ?? 256;
  await new Promise((resolve) => {
    const tick = () => {
      const elapsed = (nowMs() - start) / 1000;
      const due = Math.min(total, Math.floor(elapsed * spec.rate));
      while (sent < due && inflight < maxInflight) {
        void send(sent);
        sent += 1;
      }
      maxBacklog = Math.max(maxBacklog, due - sent);
      if (sent >= total || elapsed > spec.durationS * 1.5 + 5) {
        resolve();
        return;
      }
      setTimeout(tick, 1);
    };
    tick();
  });
  const sendSeconds = (nowMs() - start) / 1000;
  const drainDeadline = nowMs() + 30_000;
  while (inflight > 0 && nowMs() < drainDeadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const wall = nowMs() - start;
  const cpu = process.cpuUsage(cpu0);
  const accepted = statuses[spec.expectStatus ?? 202] ?? 0;
  return {
    startedAt: start,
    sent,
    accepted,
    statuses,
    errors,
    offeredRate: spec.rate,
    sendSeconds,
    seconds: wall / 1000,
    acceptedRate: accepted / (wall / 1000),
    maxBacklog,
    behind: maxBacklog > Math.max(5, spec.rate * 0.05),
    httpP50: percentile(latencies, 50),
    httpP99: percentile(latencies, 99),
    sendTimes,
    loadgenCpu: (cpu.user + cpu.system) / 1000 / wall,
  };
}

process.on('message', async (message) => {
  try {
    process.send({ id: message.id, result: await run(message.spec) });
  } catch (error) {
    process.send({ id: message.id, error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
