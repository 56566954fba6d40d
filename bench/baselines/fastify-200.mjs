// Baseline: a plain Fastify server answering 200 on every path (no logging, no plugins).
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/ready', async () => 'ok');
app.all('/*', async (_request, reply) => reply.code(200).send('ok'));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
