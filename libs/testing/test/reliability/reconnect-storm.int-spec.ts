/* Fault 5 (issue 9): a reconnect storm. Many sockets are cut at once by a gateway restart; with the
 * client's backoff and jitter they all reconnect, `client-list` matches the live sockets afterwards,
 * and events that were pending (delivered but not acknowledged before the restart) are replayed.
 * CI runs RELIABILITY_STORM_SOCKETS (default 500); `node scripts/fuzz-long.mjs` runs the 2,000. */
import { serviceEnv, spawnService, testNamespace, type ServiceProcess, waitFor } from '@app/testing';
import { connectUser, envInt, mapLimit, requestJson, type UserClient } from './support';
import { tokenMinter, type TokenMinter } from './token-minter';

const SOCKETS = envInt('RELIABILITY_STORM_SOCKETS', 500);
const SOCKETS_PER_USER = 2;

describe('fault: a reconnect storm after a gateway restart', () => {
  const ns = testNamespace();
  let gateway: ServiceProcess;
  let minter: TokenMinter;
  let clients: UserClient[] = [];

  beforeAll(async () => {
    gateway = await spawnService(
      'event-gateway',
      serviceEnv('event-gateway', ns, { LOG_LEVEL: 'warn', ACK_TIMEOUT_MS: '2000' }),
      { waitReady: true },
    );
    minter = tokenMinter(ns.redisUrl, ns.redisKeyPrefix);
  });

  afterAll(async () => {
    clients.forEach((client) => client.close());
    await gateway?.stop('SIGKILL');
    await minter?.close();
  });

  it(
    `reconnects all ${SOCKETS} sockets, client-list matches the live sockets, and pending events are replayed`,
    async () => {
      const users = Array.from({ length: SOCKETS / SOCKETS_PER_USER }, (_, i) => `storm-${i}`);
      const tokens = await mapLimit(users, 32, (user) => minter.mint(user));
      // Clients hold events unacknowledged until told otherwise: what they get before the restart stays pending.
      clients = await mapLimit(
        users.flatMap((user, i) =>
          Array.from({ length: SOCKETS_PER_USER }, () => [user, tokens[i]] as const),
        ),
        50,
        ([user, token]) => connectUser(gateway.url, user, token, { acking: false, timeoutMs: 30_000 }),
      );
      await waitFor(
        async () => (await requestJson<unknown[]>(`${gateway.url}/clients`)).body.length === SOCKETS,
        {
          timeoutMs: 30_000,
          description: `${SOCKETS} entries in client-list`,
        },
      );

      const eventIds = new Map(users.map((user) => [user, `pending-${user}`]));
      await mapLimit(users, 32, async (user) => {
        const posted = await requestJson(`${gateway.url}/events/${user}/downstream`, {
          body: { id: eventIds.get(user), data: { user } },
        });
        expect(posted.status).toBe(202);
      });
      await waitFor(() => clients.every((client) => client.ids.has(eventIds.get(client.userid)!)), {
        timeoutMs: 30_000,
        description: 'every socket to receive its user event (unacknowledged)',
      });

      // The storm: every socket is cut at once. From now on clients acknowledge.
      const connectsBefore = clients.map((client) => client.connects);
      clients.forEach((client) => {
        client.acking = true;
        client.events.length = 0;
        client.ids.clear();
      });
      await gateway.stop('SIGTERM');
      const restarted = Date.now();
      await gateway.start();

      await waitFor(
        () => clients.every((client, i) => client.connects > connectsBefore[i] && client.socket.connected),
        {
          timeoutMs: 120_000,
          intervalMs: 200,
          description: `all ${SOCKETS} sockets to reconnect`,
        },
      );
      const reconnectedMs = Date.now() - restarted;

      // Pending events are replayed to the reconnected sockets.
      await waitFor(
        () =>
          users.every((user) =>
            clients.some((client) => client.userid === user && client.ids.has(eventIds.get(user)!)),
          ),
        {
          timeoutMs: 60_000,
          intervalMs: 200,
          description: 'every user to get its pending event replayed',
        },
      );
      const replayedMs = Date.now() - restarted;

      // The registry matches the live sockets exactly (no leftovers of the killed connections).
      await waitFor(
        async () => {
          const entries = (
            await requestJson<Array<{ userId: string; socketId: string }>>(`${gateway.url}/clients`)
          ).body;
          const live = new Set(clients.map((client) => `${client.userid}/${client.socket.id}`));
          const listed = new Set(entries.map((entry) => `${entry.userId}/${entry.socketId}`));
          return (
            listed.size === live.size &&
            [...live].every((key) => listed.has(key)) &&
            entries.length === SOCKETS
          );
        },
        { timeoutMs: 30_000, intervalMs: 250, description: 'client-list to match the live sockets' },
      );
      process.stderr.write(
        `[reliability] reconnect storm: ${SOCKETS} sockets reconnected in ${reconnectedMs} ms, pending events replayed to all ${users.length} users in ${replayedMs} ms\n`,
      );
    },
    60_000 + SOCKETS * 60,
  );
});
