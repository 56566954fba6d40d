import type { ClientEntry } from '@app/contracts';
import { RedisService } from '@app/redis';
import { serviceEnv, spawnService, testNamespace, type TestApp, waitFor } from '@app/testing';
import {
  broadcast,
  closeClients,
  connectClient,
  disconnected,
  postEvent,
  startGateway,
  type TestClient,
  tokenFor,
} from './gateway-test-kit';

async function clients(url: string): Promise<ClientEntry[]> {
  return (await (await fetch(`${url}/clients`)).json()) as ClientEntry[];
}

describe('event-gateway: several replicas sharing one Redis', () => {
  const ns = testNamespace();
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await startGateway(ns);
    b = await startGateway(ns);
  });

  afterEach(() => closeClients());

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('delivers an event posted to replica A to the user connected to replica B', async () => {
    const { token } = await tokenFor(a, 'on-b');
    const client = await connectClient(b.url, token);
    await waitFor(async () => (await fetch(`${a.url}/clients/on-b`)).status === 200, {
      description: 'the registry entry seen from A',
    });
    const answer = await postEvent(a.url, 'on-b', {
      type: 'todo.completed',
      data: { todoid: 1 },
      id: 'a-to-b',
    });
    expect(answer.body).toEqual({ id: 'a-to-b', userid: 'on-b', delivered: 1, stored: true });
    await waitFor(() => client.events.length === 1, { description: 'the event on replica B' });
    expect(client.events[0]).toMatchObject({ id: 'a-to-b', userid: 'on-b', data: { todoid: 1 } });
  });

  it('replays on replica B what was posted to replica A while the user was offline', async () => {
    await postEvent(a.url, 'roamer', { data: 1, id: 'roam-1' });
    await postEvent(b.url, 'roamer', { data: 2, id: 'roam-2' });
    const { token } = await tokenFor(a, 'roamer');
    const client = await connectClient(b.url, token);
    await waitFor(() => client.events.length === 2, { description: 'both events' });
    expect(client.events.map((event) => event.id)).toEqual(['roam-1', 'roam-2']);
  });

  it('broadcasts to every connected client on both replicas exactly once', async () => {
    const sockets: TestClient[] = [];
    for (const [app, user] of [
      [a, 'bc1'],
      [a, 'bc2'],
      [b, 'bc3'],
      [b, 'bc1'],
    ] as const) {
      sockets.push(await connectClient(app.url, (await tokenFor(a, user)).token));
    }
    await waitFor(async () => (await clients(a.url)).length === 4, {
      description: 'four registered sockets',
    });
    const first = await broadcast(a.url, { type: 'notice', data: { text: 'hello' }, id: 'broadcast-1' });
    expect(first).toEqual({ status: 202, body: { id: 'broadcast-1', delivered: 4 } });
    await broadcast(b.url, { data: 'end', id: 'broadcast-2' });
    await waitFor(
      () => sockets.every((client) => client.events.some((event) => event.id === 'broadcast-2')),
      {
        description: 'the second broadcast everywhere',
      },
    );
    for (const client of sockets) {
      expect(client.events.map((event) => event.id)).toEqual(['broadcast-1', 'broadcast-2']);
    }
    expect(sockets[0].events[0]).toEqual({
      id: 'broadcast-1',
      type: 'notice',
      data: { text: 'hello' },
      createdAt: expect.any(String),
    });
    // Broadcasts are not stored: a user connecting later does not get them.
    const late = await connectClient(b.url, (await tokenFor(a, 'bc-late')).token);
    await postEvent(a.url, 'bc-late', { data: 'own', id: 'bc-late-own' });
    await waitFor(() => late.events.length === 1, { description: 'the late user event' });
    expect(late.events[0].id).toBe('bc-late-own');
  });

  it('emits a broadcast with an ack callback whose call leaves the pending events of the user alone', async () => {
    const { token } = await tokenFor(a, 'bc-ack');
    const client = await connectClient(b.url, token, { autoAck: false });
    const inboxSize = (): Promise<number> => b.app.get(RedisService).client.zcard('inbox:bc-ack');
    await postEvent(a.url, 'bc-ack', { data: 'own', id: 'bc-ack-own' });
    await waitFor(() => client.pendingAcks.has('bc-ack-own'), { description: 'the targeted event' });
    await broadcast(a.url, { data: 'all', id: 'bc-ack-broadcast' });
    await waitFor(() => client.pendingAcks.has('bc-ack-broadcast'), { description: 'the broadcast' });
    // SPEC section 5: every `downstream` comes with a callback; a client calls it for broadcasts too.
    const broadcastAck = client.pendingAcks.get('bc-ack-broadcast');
    expect(typeof broadcastAck).toBe('function');
    broadcastAck!();
    // Packets of one socket are handled in order: once this answer is back, the broadcast's ack was
    // handled too (the fresh token's check is a Redis read issued after it).
    const fresh = await tokenFor(a, 'bc-ack');
    await expect(
      client.socket.timeout(2_000).emitWithAck('reauthenticate', { token: fresh.token }),
    ).resolves.toEqual({
      ok: true,
      exp: expect.any(Number),
    });
    expect(await inboxSize()).toBe(1);
    client.pendingAcks.get('bc-ack-own')!();
    await waitFor(async () => (await inboxSize()) === 0, { description: 'the targeted event acknowledged' });
  });

  it('reflects connects and disconnects on every replica in client-list', async () => {
    const { token } = await tokenFor(a, 'registry1');
    const onA = await connectClient(a.url, token);
    const onB = await connectClient(b.url, token);
    const entries = await waitFor(
      async () => {
        const response = await fetch(`${b.url}/clients/registry1`);
        const body = response.status === 200 ? ((await response.json()) as ClientEntry[]) : [];
        return body.length === 2 ? body : undefined;
      },
      { description: 'both sockets in the registry' },
    );
    expect(entries.map((entry) => entry.socketId).sort()).toEqual([onA.socket.id, onB.socket.id].sort());
    expect((await clients(a.url)).filter((entry) => entry.userId === 'registry1')).toHaveLength(2);

    onA.socket.close();
    await waitFor(
      async () => {
        const body = (await (await fetch(`${a.url}/clients/registry1`)).json()) as ClientEntry[];
        return body.length === 1 && body[0].socketId === onB.socket.id;
      },
      { description: 'the closed socket to leave the registry' },
    );
    onB.socket.close();
    await waitFor(async () => (await fetch(`${a.url}/clients/registry1`)).status === 404, {
      description: 'the user to leave the registry',
    });
    const problem = await fetch(`${a.url}/clients/registry1`);
    expect(problem.headers.get('content-type')).toContain('application/problem+json');
  });

  it('removes the entries of a replica killed without a clean shutdown within its lease', async () => {
    const leaseSeconds = 2;
    const crashing = await spawnService(
      'event-gateway',
      serviceEnv('event-gateway', ns, { CLIENT_LEASE_SECONDS: String(leaseSeconds), LOG_LEVEL: 'warn' }),
    );
    try {
      const client = await connectClient(crashing.url, (await tokenFor(a, 'crash1')).token);
      await waitFor(async () => (await clients(a.url)).some((entry) => entry.socketId === client.socket.id), {
        description: 'the socket on the spawned replica in the registry',
      });
      const gone = disconnected(client.socket);
      expect(await crashing.stop('SIGKILL')).toBeNull();
      await gone;
      const killedAt = Date.now();
      await waitFor(async () => !(await clients(a.url)).some((entry) => entry.userId === 'crash1'), {
        timeoutMs: leaseSeconds * 1000 + 2_000,
        description: 'the crashed replica entries to disappear',
      });
      expect(Date.now() - killedAt).toBeLessThanOrEqual(leaseSeconds * 1000 + 1_500);
    } finally {
      await crashing.stop('SIGKILL');
    }
  });

  it('on clean shutdown, disconnects its sockets and removes its entries at once', async () => {
    const leaving = await startGateway(ns);
    const client = await connectClient(leaving.url, (await tokenFor(a, 'leaver')).token);
    await waitFor(async () => (await fetch(`${a.url}/clients/leaver`)).status === 200, {
      description: 'the entry',
    });
    const gone = disconnected(client.socket);
    await leaving.close();
    expect(await gone).toBe('io server disconnect');
    expect((await fetch(`${a.url}/clients/leaver`)).status).toBe(404);
  });
});
