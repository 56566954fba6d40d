// Baseline: a raw socket.io server (no Nest) on Fastify's HTTP server, with the same Redis adapter
// (@socket.io/redis-adapter on ioredis) and the same handshake auth check as the gateway (HS256
// signature, exp, iss, aud, then the Redis record auth:token:<jti>), a room per user, and the Event
// API's two emit routes emitting `downstream` with an acknowledgement. It stores nothing.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';

const redis = new Redis(process.env.REDIS_URL);
const pub = new Redis(process.env.REDIS_URL);
const sub = new Redis(process.env.REDIS_URL);
const secret = process.env.JWT_SECRET;
const ackTimeoutMs = 10_000;

const app = Fastify({ logger: false });
const io = new Server(app.server, { adapter: createAdapter(pub, sub, { key: 'bench-raw' }), transports: ['websocket', 'polling'] });

io.use(async (socket, next) => {
  try {
    const token = socket.handshake.auth?.token;
    const claims = jwt.verify(token, secret, { algorithms: ['HS256'], issuer: process.env.JWT_ISSUER, audience: process.env.JWT_AUDIENCE });
    const record = await redis.get(`auth:token:${claims.jti}`);
    if (!record) {
      throw new Error('revoked');
    }
    socket.data.userId = claims.sub;
    next();
  } catch {
    next(new Error('unauthorized'));
  }
});
io.on('connection', (socket) => {
  void socket.join(`user:${socket.data.userId}`);
});

function payload(body, userid) {
  return { id: body.id ?? randomUUID(), type: body.type ?? 'downstream', ...(userid ? { userid } : {}), data: body.data, createdAt: new Date().toISOString() };
}

app.get('/ready', async () => 'ok');
app.post('/events/:userid/downstream', async (request, reply) => {
  const { userid } = request.params;
  const event = payload(request.body ?? {}, userid);
  const room = `user:${userid}`;
  io.to(room).timeout(ackTimeoutMs).emit('downstream', event, () => undefined);
  const delivered = io.sockets.adapter.rooms.get(room)?.size ?? 0;
  return reply.code(202).send({ id: event.id, userid, delivered, stored: false });
});
app.post('/events/downstream', async (request, reply) => {
  const event = payload(request.body ?? {});
  io.timeout(ackTimeoutMs).emit('downstream', event, () => undefined);
  return reply.code(202).send({ id: event.id, delivered: io.engine.clientsCount });
});

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => {
  io.close();
  void app.close().then(() => Promise.all([redis.quit(), pub.quit(), sub.quit()])).then(() => process.exit(0));
});
