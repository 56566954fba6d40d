// A verify-like answer on plain Fastify with a chosen set of the obligations `/auth/verify` has in
// the auth-service, and no auth logic at all (run by bench/tools/verify-floor.mjs). FEATURES is a
// '+'-separated list:
//   headers  the seven answer headers and the JSON body of an accepted verification
//   hook     an onResponse hook observing a prom-client histogram (the HTTP metrics)
//   log      one pino access line per request (same destination settings as the services)
//   als      an active AsyncLocalStorage (nestjs-pino's turns on async_hooks for the process)
//   early    the answer written from the server's `request` event, before Fastify routes it
// Without `headers` or `early` the answer is Fastify's `200 ok`.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import pino from 'pino';
import client from 'prom-client';

const features = new Set((process.env.FEATURES ?? '').split('+').filter(Boolean));
const app = Fastify({ logger: false, trustProxy: true, requestIdHeader: 'x-request-id', genReqId: () => randomUUID() });
const histogram = new client.Histogram({ name: 'http_duration', help: 'h', labelNames: ['method', 'route', 'status'] });
const series = histogram.labels({ method: 'GET', route: '/auth/verify', status: '200' });
const log = features.has('log')
  ? pino(
      {
        base: { service: 'obligations' },
        messageKey: 'msg',
        serializers: {
          req: (req) => ({ id: req.id, method: req.method, url: req.url, headers: { host: req.headers.host, authorization: '[redacted]' } }),
          res: (res) => ({ statusCode: res.statusCode }),
        },
      },
      pino.destination({ dest: 1, sync: false, minLength: 4096 }),
    )
  : undefined;
if (features.has('als')) {
  new AsyncLocalStorage().enterWith({});
}
const token = { sub: 'bench-verify-user', roles: ['user'], jti: '0123456789abcdefghijkl', exp: 1_900_000_000 };

function logLine(id, req, res, elapsed) {
  log?.info({ req: { id, method: req.method, url: req.url, headers: req.headers }, res, responseTime: Math.round(elapsed), userId: token.sub, tokenId: token.jti }, 'request completed');
}

if (features.has('hook')) {
  app.addHook('onResponse', (_request, reply, done) => {
    series.observe(reply.elapsedTime / 1000);
    done();
  });
}
app.get('/ready', async () => 'ok');
app.all('/*', (request, reply) => {
  if (features.has('headers')) {
    reply
      .headers({ 'X-User-Id': token.sub, 'X-User-Roles': token.roles.join(','), 'X-Token-Id': token.jti, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store', 'X-Request-Id': request.id, 'Content-Type': 'application/json; charset=utf-8' })
      .send(JSON.stringify(token));
  } else {
    reply.send('ok');
  }
  logLine(request.id, request.raw, reply.raw, reply.elapsedTime);
});
await app.ready();
if (features.has('early')) {
  const [routed] = app.server.listeners('request');
  app.server.removeListener('request', routed);
  app.server.on('request', (req, res) => {
    if (req.url !== '/auth/verify') {
      routed.call(app.server, req, res);
      return;
    }
    const started = performance.now();
    const id = req.headers['x-request-id'] || randomUUID();
    const body = JSON.stringify(token);
    res.writeHead(200, ['X-User-Id', token.sub, 'X-User-Roles', token.roles.join(','), 'X-Token-Id', token.jti, 'X-Content-Type-Options', 'nosniff', 'Cache-Control', 'no-store', 'X-Request-Id', id, 'Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body))]);
    res.end(body);
    const elapsed = performance.now() - started;
    series.observe(elapsed / 1000);
    logLine(id, req, res, elapsed);
  });
}
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
