// Load generator process: runs one closed-loop autocannon load (fixed-rate loads use oha: lib/http-load.mjs),
// records every response time itself (float ms; autocannon's own histogram has 1 ms resolution),
// and prints one JSON line with the results and the CPU this process used.
import autocannon from 'autocannon';
import { bodyText, randomPath, todoBody } from '../lib/requests.mjs';
import { percentile } from '../lib/stats.mjs';

const spec = JSON.parse(process.argv[2]);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const latencies = [];
const statuses = {};

const request = { method: spec.method ?? 'GET', headers: spec.headers ?? {}, path: spec.path ?? '/' };
if (spec.body !== undefined) {
  request.body = bodyText(spec.body);
}
if (spec.randomPath || spec.todoBody) {
  request.setupRequest = (req) => {
    const next = { ...req };
    if (spec.randomPath) {
      next.path = randomPath(spec.randomPath);
    }
    if (spec.todoBody) {
      next.body = todoBody();
    }
    return next;
  };
}

const instance = autocannon(
  {
    url: spec.url,
    connections: spec.connections ?? 10,
    pipelining: 1,
    duration: spec.duration ?? 2,
    amount: spec.amount,
    timeout: spec.timeout ?? 10,
    requests: [request],
  },
  (error, result) => {
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (error) {
      process.stdout.write(JSON.stringify({ error: error.message }) + '\n');
      process.exit(1);
    }
    const expected = spec.expectStatus ?? 200;
    const ok = statuses[expected] ?? 0;
    const seconds = result.duration;
    process.stdout.write(
      JSON.stringify({
        ok,
        rps: ok / seconds,
        seconds,
        statuses,
        errors: result.errors,
        timeouts: result.timeouts,
        p50: percentile(latencies, 50),
        p90: percentile(latencies, 90),
        p99: percentile(latencies, 99),
        max: percentile(latencies, 100),
        samples: latencies.length,
        loadgenCpu: (cpu.user + cpu.system) / 1000 / wallMs,
      }) + '\n',
    );
    process.exit(0);
  },
);
instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  if (statusCode === (spec.expectStatus ?? 200)) {
    latencies.push(responseTime);
  }
});
