import { randomUUID } from 'node:crypto';
import { type DownstreamEvent, RECEIPTS_STREAM } from '@app/contracts';
import { RedisService } from '@app/redis';
import { testNamespace, type TestApp } from '@app/testing';
import { ACK_BATCH_MAX, InboxService } from '../src/inbox/inbox.service';
import { startGateway } from './gateway-test-kit';

/** The acknowledgements of one turn of the event loop are recorded by one script call, each exactly once. */
describe('event-gateway inbox: acknowledgements recorded per turn of the event loop', () => {
  const ns = testNamespace();
  let gateway: TestApp;
  let redis: RedisService;
  let inbox: InboxService;

  beforeAll(async () => {
    gateway = await startGateway(ns);
    redis = gateway.app.get(RedisService);
    inbox = gateway.app.get(InboxService);
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    await gateway?.close();
  });

  /** Stores `count` events spread over `users` users; returns them in storing order. */
  async function store(users: string[], count: number): Promise<(DownstreamEvent & { userid: string })[]> {
    const events: (DownstreamEvent & { userid: string })[] = [];
    for (let i = 0; i < count; i += 1) {
      const userid = users[i % users.length];
      const event = {
        id: randomUUID(),
        type: 'downstream',
        userid,
        data: { i },
        createdAt: new Date().toISOString(),
      };
      const result = await inbox.append(event, {
        channel: `${ns.redisKeyPrefix}acks-test`,
        socketsKey: `sockets:${userid}`,
      });
      expect(result.stored).toBe(true);
      events.push(event);
    }
    return events;
  }

  /** The receipts of `users`, in stream order, as `eventId` values. */
  async function receiptsOf(users: string[]): Promise<string[]> {
    const entries = await redis.client.xrange(RECEIPTS_STREAM, '-', '+');
    return entries
      .map(([, fields]) => {
        const record: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) {
          record[fields[i]] = fields[i + 1];
        }
        return record;
      })
      .filter((record) => users.includes(record.userid))
      .map((record) => record.eventId);
  }

  /**
   * The acknowledgement script calls the client writes to Redis from now on (EVALSHA, or EVAL when
   * Redis does not have the script yet), as the number of keys each carries.
   */
  function watchScriptCalls(): number[] {
    const keyCounts: number[] = [];
    const client = redis.client;
    const send = client.sendCommand.bind(client);
    jest.spyOn(client, 'sendCommand').mockImplementation((command, ...rest) => {
      const args = command.args as unknown[];
      if (/^eval(sha)?$/.test(command.name) && args.includes(`${ns.redisKeyPrefix}${RECEIPTS_STREAM}`)) {
        keyCounts.push(Number(args[1]));
      }
      return send(command, ...rest);
    });
    return keyCounts;
  }

  it('records one turn of acknowledgements with one script call, in order, each event once', async () => {
    const users = ['ack-a', 'ack-b', 'ack-c', 'ack-d'].map((u) => `${u}-${randomUUID().slice(0, 8)}`);
    const events = await store(users, 20);
    const calls = watchScriptCalls();

    // One turn: every acknowledgement, then the first one again (a second socket of the same user).
    const results = await Promise.all([
      ...events.map((event) => inbox.acknowledge(event, new Date())),
      inbox.acknowledge(events[0], new Date()),
    ]);

    expect(calls).toEqual([1 + 3 * (events.length + 1)]);
    expect(results).toEqual([...events.map(() => true), false]);
    expect(await receiptsOf(users)).toEqual(events.map((event) => event.id));
    for (const userid of users) {
      expect(await inbox.size(userid)).toBe(0);
    }
    // Acknowledged in a later turn: already gone, no second receipt.
    expect(await inbox.acknowledge(events[1], new Date())).toBe(false);
    expect(calls).toHaveLength(2);
    expect(await receiptsOf(users)).toHaveLength(events.length);
  });

  it(`splits a turn of more than ${ACK_BATCH_MAX} acknowledgements into calls of at most ${ACK_BATCH_MAX}`, async () => {
    const users = Array.from({ length: 10 }, (_, i) => `ack-many-${i}-${randomUUID().slice(0, 8)}`);
    const events = await store(users, ACK_BATCH_MAX + 44);
    const calls = watchScriptCalls();

    const results = await Promise.all(events.map((event) => inbox.acknowledge(event, new Date())));

    expect(results.every((removed) => removed)).toBe(true);
    // Each call carries the stream, then three keys per event.
    expect(calls).toEqual([1 + 3 * ACK_BATCH_MAX, 1 + 3 * 44]);
    expect(await receiptsOf(users)).toEqual(events.map((event) => event.id));
  });
});
