// Baseline: plain Fastify + the native mongodb driver doing the todo-service's reads and writes
// on the same server and collection, with the same document model (`_id` is the todoid in decimal):
// GET /todos/:id (findOne by _id), POST /todos (todoid from a
// counter, insert, retry on duplicate key), and POST /todos/:id/complete/downstream (mark completed,
// then POST the event to EVENT_API_URL). No validation beyond types, no logging: the floor.
import Fastify from 'fastify';
import { MongoClient } from 'mongodb';

const client = new MongoClient(process.env.MONGODB_URI, { maxPoolSize: 20 });
await client.connect();
const db = client.db();
const todos = db.collection(process.env.TODO_COLLECTION ?? 'todos');
const counters = db.collection(process.env.COUNTER_COLLECTION ?? 'bench_baseline_counters');
const eventApi = process.env.EVENT_API_URL;

function toJson(doc) {
  return {
    todoid: doc.todoid,
    userid: doc.userid,
    content: doc.content,
    completed: doc.completed,
    completedAt: doc.completedAt ? doc.completedAt.toISOString() : null,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

const app = Fastify({ logger: false });
app.get('/ready', async () => 'ok');

app.get('/todos/:id', async (request, reply) => {
  const todoid = Number(request.params.id);
  if (!Number.isSafeInteger(todoid) || todoid < 1) {
    return reply.code(400).send({ title: 'bad todoid' });
  }
  const doc = await todos.findOne({ _id: String(todoid) }, { projection: { _id: 0 } });
  if (!doc) {
    return reply.code(404).send({ title: 'not found' });
  }
  return toJson(doc);
});

app.post('/todos', async (request, reply) => {
  const body = request.body ?? {};
  for (let attempt = 0; attempt < 200; attempt += 1) {
    let counter;
    try {
      counter = await counters.findOneAndUpdate({ _id: 'todoid' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' });
    } catch (error) {
      if (error?.code === 11000) {
        continue; // two upserts created the counter at once (FerretDB's upsert is not atomic)
      }
      throw error;
    }
    const now = new Date();
    const doc = { _id: String(counter.seq), todoid: counter.seq, userid: body.userid, content: body.content ?? {}, completed: false, completedAt: null, createdAt: now, updatedAt: now };
    try {
      await todos.insertOne(doc);
      return reply.code(201).header('location', `/todos/${doc.todoid}`).send(toJson(doc));
    } catch (error) {
      if (error?.code !== 11000) {
        throw error;
      }
    }
  }
  return reply.code(503).send({ title: 'no todoid' });
});

app.post('/todos/:id/complete/downstream', async (request, reply) => {
  const todoid = Number(request.params.id);
  const now = new Date();
  await todos.updateOne({ _id: String(todoid), completed: false }, { $set: { completed: true, completedAt: now, updatedAt: now } });
  const doc = await todos.findOne({ _id: String(todoid) }, { projection: { _id: 0 } });
  if (!doc) {
    return reply.code(404).send({ title: 'not found' });
  }
  const todo = toJson(doc);
  const response = await fetch(`${eventApi}/events/${encodeURIComponent(doc.userid)}/downstream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'todo.completed', id: `todo-${todoid}`, data: todo }),
  });
  await response.arrayBuffer();
  return { todo, event: { id: `todo-${todoid}`, status: response.status === 202 ? 'delivered' : 'pending' } };
});

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => client.close()).then(() => process.exit(0)));
