// The requests the HTTP load generators send, shared by autocannon's worker (closed loop) and oha's
// launcher (open loop), so that both offer the same load.

export function randInt(min, max) {
  return min + Math.floor(Math.random() * (max - min + 1));
}

/** A path of spec.randomPath: its prefix and a random integer in [min, max] (a todoid). */
export function randomPath({ prefix, min, max }) {
  return `${prefix}${randInt(min, max)}`;
}

/** A body for POST /todos: one of 1,000 users, a random quantity. */
export function todoBody() {
  return JSON.stringify({ userid: `bench-user-${randInt(1, 1000)}`, content: { title: 'bench todo', fields: { qty: randInt(0, 100), tags: ['a', 'b'] } } });
}

/** spec.body as sent: a string as is, anything else as JSON. */
export function bodyText(body) {
  return typeof body === 'string' ? body : JSON.stringify(body);
}
