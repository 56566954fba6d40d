// Scenario 1: GET /auth/verify with a valid token (verification cache warm) and with a bad token
// (signed with another key), against a plain Fastify 200 and nginx `return 200`.
import jwt from 'jsonwebtoken';
import { wrkLoad } from '../lib/http-load.mjs';
import { latencyChart, loadgenNote, maxRounds, pairedRatio, runHttpScenario, summarize } from '../lib/http-scenario.mjs';
import { fmtRatio } from '../lib/report.mjs';
import { round } from '../lib/stats.mjs';

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
  // Latency at fixed rates, and the rate they are offered at, come from autocannon's maxima: half of
  // the machine's maximum with a load generator on it (its best round). Half of wrk's plain Fastify
  // maximum (below) is a rate at which oha and the server no longer share two cores quietly (plain
  // Fastify's own p99 there: 25–300 ms in a probe).
  const result = await runHttpScenario(ctx, { targets, reference: 'fastify', ratePlan: ctx.smoke ? [0.5] : [0.25, 0.5, 0.75] });
  const half = result.fixed[0.5];
  // The throughput target is judged on wrk's maxima: autocannon needs about a core for plain
  // Fastify's maximum on two cores, so those rounds saturate it and are left out; wrk needs a third
  // to half of that, and the server under test sets the maximum.
  const serverBoundRuns = await maxRounds(ctx, targets, { load: wrkLoad, name: 'wrk max', rounds: ctx.serverBoundRounds });
  const serverBound = Object.fromEntries(targets.map((t) => [t.key, summarize(serverBoundRuns[t.key])]));
  const rows = [];
  for (const key of ['valid', 'bad']) {
    const ratio = pairedRatio(serverBoundRuns, key, 'fastify');
    const label = targets.find((t) => t.key === key).label;
    const throughputMet = ratio.median >= 0.7 && !ratio.loadgenBound;
    rows.push({
      scenario: `/auth/verify, ${key === 'valid' ? 'valid token' : 'bad token (401)'}`,
      baseline: `plain Fastify 200: ${Math.round(serverBound.fastify.rps)} req/s (wrk)`,
      candidate: `${label}: ${Math.round(serverBound[key].rps)} req/s (wrk)`,
      ratio,
      extraRatio: { label: 'vs nginx', ...pairedRatio(serverBoundRuns, key, 'nginx') },
      ratioNote: `with autocannon: ${fmtRatio(pairedRatio(result.maxRuns, key, 'fastify'))}`,
      latency: `at 50% of Fastify's best autocannon round (${half.rate} req/s): p50 ${round(half[key].p50, 2)} / p99 ${round(half[key].p99, 2)} ms (Fastify ${round(half.fastify.p50, 2)} / ${round(half.fastify.p99, 2)} ms)`,
      target: '≥ 0.7× Fastify throughput; p99 ≤ 2 ms at 50% of Fastify max',
      met: throughputMet && half[key].p99 <= 2,
      metDetail: `ratio ${throughputMet ? 'met' : 'missed'}, p99 ${half[key].p99 <= 2 ? 'met' : 'missed'}`,
    });
  }
  return {
    rows,
    chart: latencyChart('/auth/verify: latency against offered load (last point: wrk maximum)', { ...result, max: serverBound }, targets),
    data: { wrkMaxRuns: serverBoundRuns, wrkMax: serverBound, max: result.max, fixed: Object.fromEntries(Object.entries(result.fixed).map(([f, v]) => [f, { ...v, raw: undefined }])), maxRuns: result.maxRuns },
    conditions: [
      `throughput (judged): maxima with wrk (C, one thread), 32 connections, ${Math.max(1, Math.round(ctx.durations.http))} s per run, ${ctx.serverBoundRounds} rounds, A B A B; it needs a third to half of autocannon's CPU per request, so the server under test, at a full core, sets the maximum. ${loadgenNote({ max: serverBound }, targets)}`,
      `maxima also with autocannon in its own process, ${32} connections, ${ctx.durations.http} s per run, ${ctx.rounds} rounds after a ${ctx.durations.warmup} s warm-up per target: on two cores it often saturates its own core on plain Fastify; saturated rounds are left out of the maxima and the ratios. ${loadgenNote(result, targets)}`,
      `latency at fixed rates (fractions of plain Fastify's best autocannon round, the machine's maximum with a load generator on it; the best, because a stall only lowers a round): oha in its own process, open loop (requests due at evenly spaced times, latency counted from the due time, so a stall is not hidden), 16 connections, ${ctx.durations.http} s per run; autocannon's rate limit would send each second's quota back to back and measure half a second at the maximum`,
      'one auth-service process (NODE_ENV=production, LOG_LEVEL=info), plain Fastify without logging, nginx with 1 worker and access_log off',
      'the load generator shares the 2 cores with the server under test',
    ],
  };
}
