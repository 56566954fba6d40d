/* Fault 6 (issue 9): a client that never acknowledges. Its inbox stays bounded by the retention
 * limit (EVENT_INBOX_MAX), the gateway's memory stays bounded, and another user's delivery latency
 * is not affected. */
import { serviceEnv, spawnService, testNamespace, type ServiceProcess, waitFor } from '@app/testing';
import { connectUser, envInt, mapLimit, requestJson, residentBytes, type UserClient } from './support';
import { tokenMinter, type TokenMinter } from './token-minter';

const INBOX_MAX = 100;
const FLOOD = envInt('RELIABILITY_FLOOD_EVENTS', 2_000);
const PROBES = 30;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

describe('fault: a client that never acknowledges', () => {
  const ns = testNamespace();
  let gateway: ServiceProcess;
  let minter: TokenMinter;
  const clients: UserClient[] = [];

  beforeAll(async () => {
    gateway = await spawnService(
      'event-gateway',
      serviceEnv('event-gateway', ns, {
        LOG_LEVEL: 'warn',
        EVENT_INBOX_MAX: String(INBOX_MAX),
        ACK_TIMEOUT_MS: '500',
      }),
      { waitReady: true },
    );
    minter = tokenMinter(ns.redisUrl, ns.redisKeyPrefix);
  });

  afterAll(async () => {
    clients.forEach((client) => client.close());
    await gateway?.stop();
    await minter?.close();
  });

  /** Delivery latency (post to arrival) of `count` events to an acknowledging user, in ms. */
  async function probeLatency(client: UserClient, label: string, count: number): Promise<number[]> {
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = `${label}-${i}`;
      const started = performance.now();
      const posted = await requestJson(`${gateway.url}/events/${client.userid}/downstream`, {
        body: { id, data: { i } },
      });
      expect(posted.status).toBe(202);
      await waitFor(() => client.ids.has(id), {
        timeoutMs: 5_000,
        intervalMs: 2,
        description: `probe ${id}`,
      });
      latencies.push(performance.now() - started);
    }
    return latencies;
  }

  it(
    `keeps the silent user's inbox at ${INBOX_MAX} events, the gateway's memory bounded, and another user's latency unaffected while ${FLOOD} events pile up`,
    async () => {
      const silent = await connectUser(gateway.url, 'silent.user', await minter.mint('silent.user'), {
        acking: false,
      });
      const healthy = await connectUser(gateway.url, 'healthy.user', await minter.mint('healthy.user'));
      clients.push(silent, healthy);

      const baseline = await probeLatency(healthy, 'baseline', PROBES);
      const memoryBefore = await residentBytes(gateway.pid!);

      let flooding = true;
      const flood = mapLimit(
        Array.from({ length: FLOOD }, (_, i) => i),
        8,
        async (i) => {
          const posted = await requestJson(`${gateway.url}/events/silent.user/downstream`, {
            body: { id: `flood-${i}`, data: { i, pad: 'x'.repeat(512) } },
          });
          expect(posted.status).toBe(202);
        },
      ).finally(() => {
        flooding = false;
      });
      const during: number[] = [];
      while (flooding && during.length < PROBES * 3) {
        during.push(...(await probeLatency(healthy, `during-${during.length}`, 5)));
      }
      await flood;
      const memoryAfter = await residentBytes(gateway.pid!);

      // The silent user received the flood (it is connected) but acknowledged nothing.
      await waitFor(() => silent.ids.size >= Math.min(FLOOD, INBOX_MAX), {
        timeoutMs: 20_000,
        description: 'the silent user to receive events',
      });

      // Its inbox is bounded: a fresh connection of the same user is replayed at most INBOX_MAX events, the newest.
      silent.close();
      const replay = await connectUser(gateway.url, 'silent.user', await minter.mint('silent.user'), {
        acking: false,
      });
      clients.push(replay);
      await waitFor(() => replay.ids.has(`flood-${FLOOD - 1}`), {
        timeoutMs: 20_000,
        description: 'the newest flood event to be replayed',
      });
      // Give the replay the time of one more probe round trip to overshoot, if it were going to.
      await probeLatency(healthy, 'settle', 3);
      expect(replay.ids.size).toBeLessThanOrEqual(INBOX_MAX);
      expect(replay.ids.has('flood-0')).toBe(false);

      const growth = memoryAfter - memoryBefore;
      // Generous bound: the flood carries ~1 MB of payload; an unbounded buffer of 2,000 pending acks would grow far more.
      expect(growth).toBeLessThan(150 * 1024 * 1024);

      const p95Before = percentile(baseline, 95);
      const p95During = percentile(during, 95);
      expect(during.length).toBeGreaterThan(0);
      expect(p95During).toBeLessThan(Math.max(250, p95Before * 10));
      process.stderr.write(
        `[reliability] slow consumer: ${FLOOD} events to a silent user, replay holds ${replay.ids.size} (max ${INBOX_MAX}), ` +
          `gateway RSS ${Math.round(memoryBefore / 1e6)} -> ${Math.round(memoryAfter / 1e6)} MB, other user p95 ${p95Before.toFixed(1)} ms -> ${p95During.toFixed(1)} ms (${during.length} probes)\n`,
      );
    },
    60_000 + FLOOD * 60,
  );
});
