// Scenario 1: GET /auth/verify with a valid token (verification cache warm) and with a bad token
// (signed with another key), against a plain Fastify 200 and nginx `return 200`.
import jwt from 'jsonwebtoken';
import { wrkLoad } from '../lib/http-load.mjs';
import { latencyChart, loadgenNote, maxRounds, pairedRatio, runHttpScenario } from '../lib/http-scenario.mjs';
import { fmtRatio } from '../lib/report.mjs';
import { median, round } from '../lib/stats.mjs';

export const name = 'auth-verify';
export const title = '/auth/verify (valid token, cache warm; bad token) vs plain Fastify 200 and nginx return 200';

export async function run(ctx) {
  const redis = await ctx.redis();
  const auth = await ctx.service('auth-service', { REDIS_URL: redis.url });
  const fastify = await ctx.baseline('fastify-200.mjs', {});
  const nginx = await ctx.nginx();
  const [{ token }] = await ctx.tokens(auth.url, ['bench-verify-user']);
  const bad = jwt.sign({ sub: 'bench-verify-user', jti: 'not-issued', roles: [] }, 'another-secret-of-at-least-32-bytes-0123456789', {
    algorithm: 'HS256', issuer: 'downstream-auth', audience: 'downstream', expiresIn: 3600,
  });
  const targets = [
    { key: 'valid', label: 'verify (valid token)', url: auth.url, pid: auth.pid, request: { path: '/auth/verify', headers: { authorization: `Bearer ${token}` } } },
    { key: 'fastify', label: 'plain Fastify 200', url: fastify.url, pid: fastify.pid, request: { path: '/auth/verify' } },
    { key: 'bad', label: 'verify (bad token)', url: auth.url, pid: auth.pid, request: { path: '/auth/verify', headers: { authorization: `Bearer ${bad}` }, expectStatus: 401 } },
    { key: 'nginx', label: 'nginx return 200', url: nginx.url, pid: nginx.pid, request: { path: '/auth/verify' } },
  ];
  // The candidate answers with the headers the ingress needs; check once before measuring.
  const check = await fetch(`${auth.url}/auth/verify`, { headers: { authorization: `Bearer ${token}` } });
  if (check.status !== 200 || check.headers.get('x-user-id') !== 'bench-verify-user') {
    throw new Error(`/auth/verify answered ${check.status} without X-User-Id: the candidate is not ready`);
  }
  const result = await runHttpScenario(ctx, { targets, reference: 'fastify', ratePlan: ctx.smoke ? [0.5] : [0.25, 0.5, 0.75] });
  const half = result.fixed[0.5];
  // The maxima once more with wrk: with autocannon, plain Fastify's maximum is bound by autocannon's
  // own core in every round on two cores; wrk leaves the server under test the limit.
  const serverBound = await maxRounds(ctx, targets.filter((t) => t.key !== 'nginx'), { load: wrkLoad, name: 'wrk max' });
  const rows = [];
  for (const key of ['valid', 'bad']) {
    const ratio = pairedRatio(result.maxRuns, key, 'fastify');
    const ratioNginx = pairedRatio(result.maxRuns, key, 'nginx');
    const label = targets.find((t) => t.key === key).label;
    rows.push({
      scenario: `/auth/verify, ${key === 'valid' ? 'valid token' : 'bad token (401)'}`,
      baseline: `plain Fastify 200: ${Math.round(result.max.fastify.rps)} req/s`,
      candidate: `${label}: ${Math.round(result.max[key].rps)} req/s`,
      ratio,
      extraRatio: { label: 'vs nginx', ...ratioNginx },
      ratioNote: `with wrk, where the server and not the load generator sets the maximum: ${fmtRatio(pairedRatio(serverBound, key, 'fastify'))}`,
      latency: `at 50% of Fastify max (${half.rate} req/s): p50 ${round(half[key].p50, 2)} / p99 ${round(half[key].p99, 2)} ms (Fastify ${round(half.fastify.p50, 2)} / ${round(half.fastify.p99, 2)} ms)`,
      target: '≥ 0.7× Fastify throughput; p99 ≤ 2 ms at 50% of Fastify max',
      met: ratio.median >= 0.7 && half[key].p99 <= 2,
      metDetail: `ratio ${ratio.median >= 0.7 ? 'met' : 'missed'}, p99 ${half[key].p99 <= 2 ? 'met' : 'missed'}`,
    });
  }
  return {
    rows,
    chart: latencyChart('/auth/verify: latency against offered load', result, targets),
    data: { wrkMaxRuns: serverBound, max: result.max, fixed: Object.fromEntries(Object.entries(result.fixed).map(([f, v]) => [f, { ...v, raw: undefined }])), maxRuns: result.maxRuns },
    conditions: [
      `maxima: autocannon in its own process, ${32} connections, ${ctx.durations.http} s per run, ${ctx.rounds} rounds after a ${ctx.durations.warmup} s warm-up per target`,
      `latency at fixed rates: oha in its own process, open loop (requests due at evenly spaced times, latency counted from the due time, so a stall is not hidden), 16 connections, ${ctx.durations.http} s per run; autocannon's rate limit would send each second's quota back to back and measure half a second at the maximum`,
      'one auth-service process (NODE_ENV=production, LOG_LEVEL=info), plain Fastify without logging, nginx with 1 worker and access_log off',
      'the load generator shares the 2 cores with the server under test: the closed-loop maximum is a machine maximum, not a server maximum',
      loadgenNote(result, targets),
      `maxima again with wrk (one thread, 32 connections, ${Math.max(1, Math.round(ctx.durations.http))} s per run, ${ctx.rounds} rounds, A B A B): it needs a third to half of autocannon's CPU per request, so both servers run at a full core; median CPU of wrk and of the server: ${['valid', 'fastify', 'bad'].map((key) => `${key} ${round(median(serverBound[key].map((r) => r.loadgenCpu)))} / ${round(median(serverBound[key].map((r) => r.serverCpu)))} core`).join(', ')}`,
    ],
  };
}

