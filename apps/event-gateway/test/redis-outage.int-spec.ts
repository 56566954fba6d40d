import type { ClientEntry } from '@app/contracts';
import { type LocalServer, startRedisServer, testNamespace, type TestApp, waitFor } from '@app/testing';
import { closeClients, connectClient, postEvent, startGateway, tokenFor } from './gateway-test-kit';

describe('event-gateway while its Redis is down', () => {
  const ns = testNamespace();
  let redis: LocalServer;
  let gateway: TestApp;

  beforeAll(async () => {
    // A private Redis: this test stops it, which must not disturb other test files.
    redis = await startRedisServer();
    gateway = await startGateway(
      { ...ns, redisUrl: redis.url },
      { REDIS_URL: redis.url, CLIENT_LEASE_SECONDS: '1', HEALTH_TIMEOUT_MS: '300' },
    );
  });

  afterAll(async () => {
    closeClients();
    await gateway?.close();
    await redis?.dispose();
  });

  it('answers 503 (never 500) while Redis is down, then delivers again and repairs the registry once it is back', async () => {
    const { token } = await tokenFor(gateway, 'outage1');
    const client = await connectClient(gateway.url, token);
    await waitFor(async () => (await fetch(`${gateway.url}/clients/outage1`)).status === 200, {
      description: 'the registry entry',
    });

    await redis.stop();
    try {
      const answer = await waitFor(
        async () => {
          const response = await postEvent(gateway.url, 'outage1', { data: 1, id: 'during-outage' });
          return response.status === 503 ? response : undefined;
        },
        { description: 'a 503 from the Event API' },
      );
      expect(answer.body).toMatchObject({ status: 503, title: 'Service Unavailable' });
      const clients = await fetch(`${gateway.url}/clients`);
      expect(clients.status).toBe(503);
      expect(clients.headers.get('content-type')).toContain('application/problem+json');
    } finally {
      await redis.start();
    }

    // The restarted Redis lost everything (no persistence): the heartbeat writes the registry again.
    const entries = await waitFor(
      async () => {
        const response = await fetch(`${gateway.url}/clients/outage1`);
        return response.status === 200 ? ((await response.json()) as ClientEntry[]) : undefined;
      },
      { timeoutMs: 15_000, description: 'the registry entry to be written again' },
    );
    expect(entries.map((entry) => entry.socketId)).toEqual([client.socket.id]);
    const accepted = await waitFor(
      async () => {
        const response = await postEvent(gateway.url, 'outage1', { data: 2, id: 'after-outage' });
        return response.status === 202 ? response : undefined;
      },
      { timeoutMs: 15_000, description: 'the Event API to accept again' },
    );
    expect(accepted.body).toMatchObject({ delivered: 1, stored: true });
    await waitFor(() => client.events.some((event) => event.id === 'after-outage'), {
      timeoutMs: 15_000,
      description: 'delivery after the outage',
    });
    expect(client.socket.connected).toBe(true);
  });
});
