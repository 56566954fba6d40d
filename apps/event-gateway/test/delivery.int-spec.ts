import { randomUUID } from 'node:crypto';
import { RECEIPTS_STREAM } from '@app/contracts';
import { RedisService } from '@app/redis';
import { TEST_SECRETS, testNamespace, type TestApp, waitFor } from '@app/testing';
import { TokenIssuer } from '@app/tokens';
import type { Server } from 'socket.io';
import { DeliveryService } from '../src/delivery/delivery.service';
import {
  closeClients,
  connectClient,
  craftJwt,
  disconnected,
  postEvent,
  startGateway,
  type TestClient,
  tokenFor,
} from './gateway-test-kit';

describe('event-gateway: authenticated sockets and durable per-user delivery', () => {
  const ns = testNamespace();
  let gateway: TestApp;
  let redis: RedisService;

  beforeAll(async () => {
    gateway = await startGateway(ns);
    redis = gateway.app.get(RedisService);
  });

  afterEach(() => closeClients());

  afterAll(async () => {
    await gateway?.close();
  });

  const inboxSize = (userid: string): Promise<number> => redis.client.zcard(`inbox:${userid}`);
  const received = (client: TestClient, id: string): number =>
    client.events.filter((event) => event.id === id).length;

  describe('handshake authentication', () => {
    const now = (): number => Math.floor(Date.now() / 1000);
    const claims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
      sub: 'mallory',
      roles: [],
      jti: randomUUID().replace(/-/g, ''),
      iat: now(),
      exp: now() + 600,
      iss: 'downstream-auth',
      aud: 'downstream',
      ...overrides,
    });

    /** Stores the token record the auth-service would write, so only the property under test is wrong. */
    async function withRecord(payload: Record<string, unknown>): Promise<Record<string, unknown>> {
      await redis.client.set(
        `auth:token:${String(payload.jti)}`,
        JSON.stringify({ jti: payload.jti, sub: payload.sub, roles: [], exp: payload.exp }),
        'EX',
        600,
      );
      return payload;
    }

    it.each<[string, () => Promise<string | undefined>]>([
      ['no token', () => Promise.resolve(undefined)],
      ['a token that is not a JWT', () => Promise.resolve('not-a-jwt')],
      [
        'a bad signature',
        async () =>
          craftJwt(
            { alg: 'HS256', typ: 'JWT' },
            await withRecord(claims()),
            'another-secret-0123456789abcdef0123456789',
          ),
      ],
      ['alg none', async () => craftJwt({ alg: 'none', typ: 'JWT' }, await withRecord(claims()))],
      [
        'an expired token',
        async () =>
          craftJwt(
            { alg: 'HS256', typ: 'JWT' },
            await withRecord(claims({ iat: now() - 3600, exp: now() - 60 })),
            TEST_SECRETS.jwtSecret,
          ),
      ],
      [
        'a wrong audience',
        async () =>
          craftJwt(
            { alg: 'HS256', typ: 'JWT' },
            await withRecord(claims({ aud: 'elsewhere' })),
            TEST_SECRETS.jwtSecret,
          ),
      ],
      [
        'a revoked token',
        async () => {
          const { token, jti } = await tokenFor(gateway, 'mallory');
          await gateway.app.get(TokenIssuer).revoke(jti);
          return token;
        },
      ],
    ])('refuses a handshake with %s: connect_error "unauthorized"', async (_label, makeToken) => {
      const token = await makeToken();
      await expect(connectClient(gateway.url, token)).rejects.toMatchObject({ message: 'unauthorized' });
    });

    it('accepts the control case: a correctly signed token with its record is accepted', async () => {
      const payload = await withRecord(claims({ sub: 'control' }));
      const client = await connectClient(
        gateway.url,
        craftJwt({ alg: 'HS256', typ: 'JWT' }, payload, TEST_SECRETS.jwtSecret),
      );
      expect(client.socket.connected).toBe(true);
    });

    it('connects a valid token as its sub, registers the socket and also accepts Authorization: Bearer', async () => {
      const { token } = await tokenFor(gateway, 'alice');
      const byAuth = await connectClient(gateway.url, token);
      const byHeader = await connectClient(gateway.url, undefined, {
        headers: { Authorization: `Bearer ${token}` },
      });
      const entries = await waitFor(
        async () => {
          const response = await fetch(`${gateway.url}/clients/alice`);
          const body =
            response.status === 200 ? ((await response.json()) as Array<{ socketId: string }>) : [];
          return body.length === 2 ? body : undefined;
        },
        { description: 'both sockets of alice in the registry' },
      );
      expect(entries.map((entry) => entry.socketId).sort()).toEqual(
        [byAuth.socket.id, byHeader.socket.id].sort(),
      );
      expect(entries[0]).toEqual({
        userId: 'alice',
        socketId: expect.any(String),
        lastConnectedTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    });

    it('disconnects a socket at token expiry unless it re-authenticated with a fresh token', async () => {
      const short = await tokenFor(gateway, 'expiring', 2);
      const stays = await connectClient(gateway.url, short.token);
      const leaves = await connectClient(gateway.url, short.token);
      const fresh = await tokenFor(gateway, 'expiring', 600);
      const other = await tokenFor(gateway, 'someone-else', 600);
      await expect(
        leaves.socket.timeout(2_000).emitWithAck('reauthenticate', { token: other.token }),
      ).resolves.toEqual({ ok: false, error: 'unauthorized' });
      await expect(
        stays.socket.timeout(2_000).emitWithAck('reauthenticate', { token: fresh.token }),
      ).resolves.toEqual({ ok: true, exp: expect.any(Number) });
      expect(await disconnected(leaves.socket, 6_000)).toBe('io server disconnect');
      // The renewed socket is still served: it receives an event posted after the old expiry.
      await postEvent(gateway.url, 'expiring', { data: { after: 'expiry' }, id: 'after-expiry' });
      await waitFor(() => received(stays, 'after-expiry') === 1, {
        description: 'the renewed socket to receive an event',
      });
      expect(stays.socket.connected).toBe(true);
    });

    it('answers a malformed reauthenticate as unauthorized, and survives one sent without an ack', async () => {
      const { token } = await tokenFor(gateway, 'malformed-reauth');
      const client = await connectClient(gateway.url, token);
      client.socket.emit('reauthenticate', { token });
      await expect(
        client.socket.timeout(2_000).emitWithAck('reauthenticate', 'not-an-object'),
      ).resolves.toEqual({
        ok: false,
        error: 'unauthorized',
      });
      await expect(client.socket.timeout(2_000).emitWithAck('reauthenticate', { token })).resolves.toEqual({
        ok: true,
        exp: expect.any(Number),
      });
      expect(client.socket.connected).toBe(true);
    });

    it('listens on every socket with the same two listeners, and keeps the user in socket.data itself', async () => {
      // Nest's @SubscribeMessage and OnGatewayDisconnect bindings cost a closure (or a bound handler)
      // and its context per socket and per event; the gateway's listeners are shared functions.
      const { token, jti } = await tokenFor(gateway, 'shared-listeners');
      const clients = [await connectClient(gateway.url, token), await connectClient(gateway.url, token)];
      const server = gateway.app.get<DeliveryService, { server: Server }>(DeliveryService).server;
      const [a, b] = clients.map((client) => server.sockets.sockets.get(client.socket.id ?? ''));
      for (const event of ['reauthenticate', 'disconnect']) {
        expect(a?.listeners(event)).toHaveLength(1);
        expect(a?.listeners(event)[0]).toBe(b?.listeners(event)[0]);
      }
      expect(a?.data).toEqual({ userId: 'shared-listeners', jti, exp: expect.any(Number) });
    });

    it('drops socket.request, the HTTP request that opened a socket, once it connects, and serves it as before (WebSocket, polling, upgraded)', async () => {
      const { token } = await tokenFor(gateway, 'released-request');
      const clients = [
        await connectClient(gateway.url, undefined, { headers: { Authorization: `Bearer ${token}` } }),
        await connectClient(gateway.url, token, { transports: ['polling'] }),
        // A browser's default: polling first, then the upgrade (its request is another one).
        await connectClient(gateway.url, token, { transports: ['polling', 'websocket'] }),
      ];
      await waitFor(() => clients[2].socket.io.engine.transport.name === 'websocket', {
        description: 'the third socket to upgrade to WebSocket',
      });
      const server = gateway.app.get<DeliveryService, { server: Server }>(DeliveryService).server;
      for (const client of clients) {
        const socket = server.sockets.sockets.get(client.socket.id ?? '');
        expect(socket).toBeDefined();
        expect(socket?.request).toBeNull();
        // The handshake was taken from the request first: the headers stay readable.
        expect(socket?.handshake.headers.host).toBe(new URL(gateway.url).host);
      }
      expect(server.sockets.sockets.get(clients[0].socket.id ?? '')?.handshake.headers.authorization).toBe(
        `Bearer ${token}`,
      );
      const posted = await postEvent(gateway.url, 'released-request', {
        data: { n: 1 },
        id: 'after-release',
      });
      expect(posted.status).toBe(202);
      await waitFor(() => clients.every((client) => received(client, 'after-release') === 1), {
        description: 'every socket to receive the event',
      });
      // Client → server packets still arrive, over polling too.
      await expect(
        clients[1].socket.timeout(2_000).emitWithAck('reauthenticate', { token }),
      ).resolves.toEqual({ ok: true, exp: expect.any(Number) });
    });

    it('refuses a browser origin that is neither the gateway itself nor in CORS_ORIGINS', async () => {
      const { token } = await tokenFor(gateway, 'cors1');
      await expect(
        connectClient(gateway.url, token, { headers: { Origin: 'https://evil.example' } }),
      ).rejects.toThrow();
      const sameOrigin = await connectClient(gateway.url, token, { headers: { Origin: gateway.url } });
      expect(sameOrigin.socket.connected).toBe(true);
    });

    it('disconnects the sockets of a token when it is revoked', async () => {
      const { token, jti } = await tokenFor(gateway, 'revokee');
      const client = await connectClient(gateway.url, token);
      const reason = disconnected(client.socket);
      await gateway.app.get(TokenIssuer).revoke(jti);
      expect(await reason).toBe('io server disconnect');
    });
  });

  it('delivers an event to every socket of test001 and to none of test002', async () => {
    const one = await tokenFor(gateway, 'test001');
    const two = await tokenFor(gateway, 'test002');
    const first = await connectClient(gateway.url, one.token);
    const second = await connectClient(gateway.url, one.token, { transports: ['polling'] });
    const stranger = await connectClient(gateway.url, two.token);
    await waitFor(async () => (await redis.client.scard('client-list:user:test001')) === 2, {
      description: 'both sockets registered',
    });

    const answer = await postEvent(gateway.url, 'test001', {
      type: 'todo.completed',
      data: { todoid: 87 },
      id: 'for-test001',
    });
    expect(answer).toEqual({
      status: 202,
      body: { id: 'for-test001', userid: 'test001', delivered: 2, stored: true },
    });
    await waitFor(() => received(first, 'for-test001') === 1 && received(second, 'for-test001') === 1, {
      description: 'both sockets of test001',
    });
    expect(first.events[0]).toEqual({
      id: 'for-test001',
      type: 'todo.completed',
      userid: 'test001',
      data: { todoid: 87 },
      createdAt: expect.any(String),
    });
    expect(new Date(first.events[0].createdAt).toISOString()).toBe(first.events[0].createdAt);

    // A later event for test002 arrives; the one for test001 never did.
    await postEvent(gateway.url, 'test002', { data: null, id: 'for-test002' });
    await waitFor(() => received(stranger, 'for-test002') === 1, { description: 'the event of test002' });
    expect(stranger.events.map((event) => event.id)).toEqual(['for-test002']);
    expect(stranger.events[0]).toMatchObject({ type: 'downstream', data: null });
  });

  it('keeps events posted while the user is offline and delivers all five in order on connect', async () => {
    for (let i = 1; i <= 5; i += 1) {
      const answer = await postEvent(gateway.url, 'offline1', { data: { n: i }, id: `offline-${i}` });
      expect(answer.body).toEqual({ id: `offline-${i}`, userid: 'offline1', delivered: 0, stored: true });
    }
    expect(await inboxSize('offline1')).toBe(5);
    const { token } = await tokenFor(gateway, 'offline1');
    const client = await connectClient(gateway.url, token);
    await waitFor(() => client.events.length === 5, { description: 'five replayed events' });
    expect(client.events.map((event) => event.id)).toEqual([
      'offline-1',
      'offline-2',
      'offline-3',
      'offline-4',
      'offline-5',
    ]);
    // New events come after the replayed ones, and acknowledged events leave the inbox.
    await postEvent(gateway.url, 'offline1', { data: { n: 6 }, id: 'offline-6' });
    await waitFor(() => client.events.length === 6, { description: 'the sixth event' });
    expect(client.events[5].id).toBe('offline-6');
    await waitFor(async () => (await inboxSize('offline1')) === 0, {
      description: 'the inbox to empty after the acks',
    });
  });

  it('delivers a backlog larger than the delivery window in order, refilling the window as acks arrive', async () => {
    const count = 150;
    for (let i = 1; i <= count; i += 1) {
      await postEvent(gateway.url, 'backlog1', { data: { n: i }, id: `backlog-${i}` });
    }
    const { token } = await tokenFor(gateway, 'backlog1');
    const client = await connectClient(gateway.url, token);
    await waitFor(() => client.events.length === count, { description: `${count} replayed events` });
    expect(client.events.map((event) => event.id)).toEqual(
      Array.from({ length: count }, (_, i) => `backlog-${i + 1}`),
    );
    await waitFor(async () => (await inboxSize('backlog1')) === 0, {
      description: 'the inbox to empty after the acks',
    });
  });

  it('replays an event that was not acknowledged on the next connect, and not one that was', async () => {
    const { token } = await tokenFor(gateway, 'forgetful');
    const first = await connectClient(gateway.url, token, { autoAck: false });
    await postEvent(gateway.url, 'forgetful', { data: 1, id: 'unacked' });
    await postEvent(gateway.url, 'forgetful', { data: 2, id: 'acked' });
    await waitFor(() => first.pendingAcks.size === 2, { description: 'both events' });
    first.pendingAcks.get('acked')!();
    await waitFor(async () => (await inboxSize('forgetful')) === 1, {
      description: 'the acknowledged event to leave the inbox',
    });
    first.socket.close();

    const second = await connectClient(gateway.url, token);
    await waitFor(() => second.events.length === 1, { description: 'the replay' });
    await postEvent(gateway.url, 'forgetful', { data: 3, id: 'sentinel' });
    await waitFor(() => received(second, 'sentinel') === 1, { description: 'a later event' });
    expect(second.events.map((event) => event.id)).toEqual(['unacked', 'sentinel']);
  });

  it('sends an unacknowledged event again, in order, after ACK_TIMEOUT_MS, and a late ack of the retry removes it', async () => {
    const quick = await startGateway(ns, { ACK_TIMEOUT_MS: '300' });
    try {
      const { token } = await tokenFor(quick, 'slowpoke');
      const client = await connectClient(quick.url, token, { autoAck: false });
      await postEvent(quick.url, 'slowpoke', { data: 'first', id: 'slow-1' });
      await postEvent(quick.url, 'slowpoke', { data: 'second', id: 'slow-2' });
      await waitFor(() => client.events.length >= 4, { description: 'both events sent twice' });
      // Each round resends the unacknowledged events in inbox order, once each (no cascade).
      expect(client.events.slice(0, 4).map((event) => event.id)).toEqual([
        'slow-1',
        'slow-2',
        'slow-1',
        'slow-2',
      ]);
      const redis = quick.app.get(RedisService);
      expect(await redis.client.zrange('inbox:slowpoke', 0, -1)).toEqual(['slow-1', 'slow-2']);

      // From now on acknowledge every (re)send, and the latest callbacks of those already received.
      client.socket.on('downstream', (_event: unknown, ack: () => void) => ack());
      client.pendingAcks.get('slow-1')!();
      client.pendingAcks.get('slow-2')!();
      await waitFor(async () => (await redis.client.zcard('inbox:slowpoke')) === 0, {
        description: 'the acks of the retries',
      });
      expect(await (await fetch(`${quick.url}/metrics`)).text()).toMatch(
        /gateway_events_retried_total\{[^}]*\} [1-9]/,
      );
    } finally {
      closeClients();
      await quick.close();
    }
  });

  it('accepts the same id twice with the same answer and delivers it once (online and offline)', async () => {
    const offlineAnswers = [
      await postEvent(gateway.url, 'idem1', { data: { v: 1 }, id: 'same-id' }),
      await postEvent(gateway.url, 'idem1', { data: { v: 2 }, id: 'same-id' }),
    ];
    expect(offlineAnswers[1]).toEqual(offlineAnswers[0]);
    expect(offlineAnswers[0]).toEqual({
      status: 202,
      body: { id: 'same-id', userid: 'idem1', delivered: 0, stored: true },
    });
    const { token } = await tokenFor(gateway, 'idem1');
    const client = await connectClient(gateway.url, token);
    await waitFor(() => received(client, 'same-id') === 1, { description: 'the event' });
    await waitFor(async () => (await inboxSize('idem1')) === 0, { description: 'the ack' });

    const again = await postEvent(gateway.url, 'idem1', { data: { v: 3 }, id: 'same-id' });
    expect(again).toEqual(offlineAnswers[0]);
    const online = await postEvent(gateway.url, 'idem1', { data: 'x', id: 'online-id' });
    expect(await postEvent(gateway.url, 'idem1', { data: 'x', id: 'online-id' })).toEqual(online);
    await postEvent(gateway.url, 'idem1', { data: 'end', id: 'idem-sentinel' });
    await waitFor(() => received(client, 'idem-sentinel') === 1, { description: 'the sentinel' });
    expect(client.events.map((event) => event.id)).toEqual(['same-id', 'online-id', 'idem-sentinel']);
    expect(client.events[0].data).toEqual({ v: 1 });
  });

  it('generates an id when none is given, and the same id for another user is a different event', async () => {
    const generated = await postEvent(gateway.url, 'gen1', { data: {} });
    expect(generated.body.id).toMatch(/^[0-9a-f-]{36}$/);
    const a = await postEvent(gateway.url, 'gen1', { data: 'a', id: 'shared' });
    const b = await postEvent(gateway.url, 'gen2', { data: 'b', id: 'shared' });
    expect([a.body.userid, b.body.userid]).toEqual(['gen1', 'gen2']);
    expect(await inboxSize('gen2')).toBe(1);
  });

  it('appends a delivery receipt to the receipts stream when the client acknowledges', async () => {
    const { token } = await tokenFor(gateway, 'receipt1');
    const client = await connectClient(gateway.url, token, { autoAck: false });
    const before = new Date().toISOString();
    await postEvent(gateway.url, 'receipt1', {
      type: 'todo.completed',
      data: { todoid: 5 },
      id: 'receipt-event',
    });
    await waitFor(() => client.pendingAcks.size === 1, { description: 'the event' });
    const receiptsOf = async (): Promise<Array<Record<string, string>>> =>
      (await redis.client.xrange(RECEIPTS_STREAM, '-', '+'))
        .map(([, fields]) =>
          Object.fromEntries(
            fields.reduce<string[][]>(
              (pairs, value, i) =>
                i % 2 === 0 ? [...pairs, [value]] : (pairs[pairs.length - 1].push(value), pairs),
              [],
            ),
          ),
        )
        .filter((entry) => entry.userid === 'receipt1');
    expect(await receiptsOf()).toEqual([]);
    client.pendingAcks.get('receipt-event')!();
    const [receipt] = await waitFor(
      async () => {
        const receipts = await receiptsOf();
        return receipts.length > 0 ? receipts : undefined;
      },
      { description: 'the receipt' },
    );
    expect(receipt).toEqual({
      eventId: 'receipt-event',
      userid: 'receipt1',
      type: 'todo.completed',
      ackedAt: expect.any(String),
    });
    expect(receipt.ackedAt >= before).toBe(true);
    expect(await inboxSize('receipt1')).toBe(0);
  });

  it('documents the Event API and the registry in Swagger', async () => {
    const document = (await (await fetch(`${gateway.url}/api-docs-json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/events/{userid}/downstream',
        '/events/downstream',
        '/clients',
        '/clients/{userId}',
        '/client',
      ]),
    );
    expect(Object.keys(document.paths['/events/{userid}/downstream'].post.responses)).toEqual(
      expect.arrayContaining(['202', '400', '413', '415', '503']),
    );
    expect(Object.keys(document.paths['/clients/{userId}'].get.responses)).toEqual(
      expect.arrayContaining(['200', '400', '404']),
    );
  });

  it('drops the oldest events beyond EVENT_INBOX_MAX and counts them as expired', async () => {
    const small = await startGateway(ns, { EVENT_INBOX_MAX: '3' });
    try {
      for (let i = 1; i <= 5; i += 1) {
        await postEvent(small.url, 'bounded', { data: i, id: `bounded-${i}` });
      }
      const { token } = await tokenFor(small, 'bounded');
      const client = await connectClient(small.url, token);
      await waitFor(() => client.events.length === 3, { description: 'the three newest events' });
      expect(client.events.map((event) => event.id)).toEqual(['bounded-3', 'bounded-4', 'bounded-5']);
      const metrics = await (await fetch(`${small.url}/metrics`)).text();
      expect(metrics).toMatch(/gateway_events_expired_total\{[^}]*\} 2/);
      expect(metrics).toMatch(/gateway_events_replayed_total\{[^}]*\} 3/);
      expect(metrics).toMatch(/gateway_connected_sockets\{[^}]*\} 1/);
      await waitFor(
        async () =>
          /gateway_events_acked_total\{[^}]*\} 3/.test(await (await fetch(`${small.url}/metrics`)).text()),
        {
          description: 'three acknowledgements counted',
        },
      );
      const after = await (await fetch(`${small.url}/metrics`)).text();
      expect(after).toMatch(/gateway_delivery_latency_seconds_count\{[^}]*\} 3/);
      expect(after).toMatch(/gateway_events_stored_total\{[^}]*\} 5/);
      expect(after).toMatch(/gateway_events_emitted_total\{[^}]*kind="user"[^}]*\} 3/);
    } finally {
      closeClients();
      await small.close();
    }
  });

  it('drops events older than EVENT_RETENTION_SECONDS unacknowledged and counts them as expired', async () => {
    const brief = await startGateway(ns, { EVENT_RETENTION_SECONDS: '1' });
    try {
      await postEvent(brief.url, 'retention1', { data: 'old', id: 'too-old' });
      const postedAt = Date.now();
      await waitFor(() => Date.now() - postedAt > 1_100, { description: 'the retention to pass' });
      await postEvent(brief.url, 'retention1', { data: 'new', id: 'fresh' });
      const { token } = await tokenFor(brief, 'retention1');
      const client = await connectClient(brief.url, token);
      await waitFor(() => client.events.length === 1, { description: 'the fresh event' });
      expect(client.events.map((event) => event.id)).toEqual(['fresh']);
      expect(await (await fetch(`${brief.url}/metrics`)).text()).toMatch(
        /gateway_events_expired_total\{[^}]*\} 1/,
      );
      expect(await brief.app.get(RedisService).client.ttl('inbox:retention1')).toBeLessThanOrEqual(2);
    } finally {
      closeClients();
      await brief.close();
    }
  });
});
