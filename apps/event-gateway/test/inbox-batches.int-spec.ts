import { randomUUID } from 'node:crypto';
import { type DownstreamEvent, RECEIPTS_STREAM } from '@app/contracts';
import { RedisService } from '@app/redis';
import { testNamespace, type TestApp } from '@app/testing';
import { ACK_BATCH_MAX, InboxService, STORE_BATCH_MAX } from '../src/inbox/inbox.service';
import { startGateway } from './gateway-test-kit';

type UserEvent = DownstreamEvent & { userid: string };

/**
 * The events posted, and the acknowledgements received, in one turn of the event loop are each
 * written by one script call, in order; every event still once, and one failing item fails alone.
 */
describe('event-gateway inbox: stores and acknowledgements batched per turn of the event loop', () => {
  const ns = testNamespace();
  let gateway: TestApp;
  let redis: RedisService;
  let inbox: InboxService;
  let channel: string;

  beforeAll(async () => {
    gateway = await startGateway(ns);
    redis = gateway.app.get(RedisService);
    inbox = gateway.app.get(InboxService);
    channel = `${ns.redisKeyPrefix}batches-test`;
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    await gateway?.close();
  });

  const users = (label: string, count: number): string[] =>
    Array.from({ length: count }, (_, i) => `${label}-${i}-${randomUUID().slice(0, 8)}`);

  const eventFor = (userid: string, id: string = randomUUID()): UserEvent => ({
    id,
    type: 'downstream',
    userid,
    data: { at: Date.now() },
    createdAt: new Date().toISOString(),
  });

  const append = (event: UserEvent): ReturnType<InboxService['append']> =>
    inbox.append(event, { channel, socketsKey: `sockets:${event.userid}` });

  /** Stores `count` events spread over `userids`, one turn each; returns them in storing order. */
  async function storeOneByOne(userids: string[], count: number): Promise<UserEvent[]> {
    const events: UserEvent[] = [];
    for (let i = 0; i < count; i += 1) {
      const event = eventFor(userids[i % userids.length]);
      expect((await append(event)).stored).toBe(true);
      events.push(event);
    }
    return events;
  }

  /** The receipts of `userids`, in stream order, as event ids. */
  async function receiptsOf(userids: string[]): Promise<string[]> {
    const entries = await redis.client.xrange(RECEIPTS_STREAM, '-', '+');
    return entries
      .map(([, fields]) => {
        const record: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) {
          record[fields[i]] = fields[i + 1];
        }
        return record;
      })
      .filter((record) => userids.includes(record.userid))
      .map((record) => record.eventId);
  }

  /** The event ids in the inbox of `userid`, in delivery order. */
  const inboxOf = (userid: string): Promise<string[]> => redis.client.zrange(`inbox:${userid}`, 0, -1);

  /**
   * The calls of the script whose keys include `marker` (a key name without the prefix) that the
   * client writes to Redis from now on (EVALSHA, or EVAL when Redis does not have the script yet),
   * as the number of keys each carries. The commands go to Redis as they are: the spy only looks.
   */
  function watchScriptCalls(marker: (key: string) => boolean): number[] {
    const keyCounts: number[] = [];
    const client = redis.client;
    const send = client.sendCommand.bind(client);
    jest.spyOn(client, 'sendCommand').mockImplementation((command, ...rest) => {
      const keys = (command.args as unknown[]).map(String);
      if (
        /^eval(sha)?$/.test(command.name) &&
        keys.some((key) => marker(key.slice(ns.redisKeyPrefix.length)))
      ) {
        keyCounts.push(Number(keys[1]));
      }
      return send(command, ...rest);
    });
    return keyCounts;
  }

  describe('acknowledgements', () => {
    const ackCalls = (): number[] => watchScriptCalls((key) => key === RECEIPTS_STREAM);

    it('records one turn of acknowledgements with one script call, in order, each event once', async () => {
      const userids = users('ack', 4);
      const events = await storeOneByOne(userids, 20);
      const calls = ackCalls();

      // One turn: every acknowledgement, then the first one again (a second socket of the same user).
      const results = await Promise.all([
        ...events.map((event) => inbox.acknowledge(event, new Date())),
        inbox.acknowledge(events[0], new Date()),
      ]);

      expect(calls).toEqual([1 + 3 * (events.length + 1)]);
      expect(results).toEqual([...events.map(() => true), false]);
      expect(await receiptsOf(userids)).toEqual(events.map((event) => event.id));
      for (const userid of userids) {
        expect(await inboxOf(userid)).toEqual([]);
      }
      // Acknowledged in a later turn: already gone, no second receipt.
      expect(await inbox.acknowledge(events[1], new Date())).toBe(false);
      expect(calls).toHaveLength(2);
      expect(await receiptsOf(userids)).toHaveLength(events.length);
    });

    it(`splits a turn of more than ${ACK_BATCH_MAX} acknowledgements into calls of at most ${ACK_BATCH_MAX}`, async () => {
      const userids = users('ack-many', 10);
      const events = await storeOneByOne(userids, ACK_BATCH_MAX + 44);
      const calls = ackCalls();

      const results = await Promise.all(events.map((event) => inbox.acknowledge(event, new Date())));

      expect(results.every((removed) => removed)).toBe(true);
      // Each call carries the stream, then three keys per event.
      expect(calls).toEqual([1 + 3 * ACK_BATCH_MAX, 1 + 3 * 44]);
      expect(await receiptsOf(userids)).toEqual(events.map((event) => event.id));
    });

    it('writes a batch to Redis in the turn it runs in, not gathered for the next one', async () => {
      const [userid] = users('ack-at-once', 1);
      const [event] = await storeOneByOne([userid], 1);
      const calls = ackCalls();

      // The batch runs at the first setImmediate of this turn; this one runs right after it.
      const acknowledged = inbox.acknowledge(event, new Date());
      let writtenWhenTurnEnded = -1;
      setImmediate(() => {
        writtenWhenTurnEnded = calls.length;
      });

      expect(await acknowledged).toBe(true);
      expect(writtenWhenTurnEnded).toBe(1);
    });

    it('fails the acknowledgement whose keys are broken, and records the others of its turn', async () => {
      const [good, broken] = users('ack-isolated', 2);
      const events = await storeOneByOne([good, broken, good], 3);
      // The broken user's delivery-order key now holds a string: ZREM on it fails in Redis.
      await redis.client.del(`inbox:${broken}`);
      await redis.client.set(`inbox:${broken}`, 'not a sorted set');

      const results = await Promise.allSettled(events.map((event) => inbox.acknowledge(event, new Date())));

      expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(Error);
      expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
      expect(await receiptsOf([good, broken])).toEqual([events[0].id, events[2].id]);
    });
  });

  describe('stores', () => {
    const storeCalls = (): number[] => watchScriptCalls((key) => /^inbox:store-/.test(key));

    it('stores one turn of events with one script call, in order, answering a repeated id as the first time', async () => {
      const userids = users('store', 3);
      const events = Array.from({ length: 12 }, (_, i) => eventFor(userids[i % userids.length]));
      const repeat = { ...events[4], data: { other: true } };
      const calls = storeCalls();

      const results = await Promise.all([...events.map(append), append(repeat)]);

      // Six keys per event.
      expect(calls).toEqual([6 * (events.length + 1)]);
      expect(results.slice(0, events.length).map((result) => result.stored)).toEqual(events.map(() => true));
      // Sequence numbers follow the order of the calls, per user.
      for (const userid of userids) {
        const own = events.flatMap((event, i) => (event.userid === userid ? [results[i]] : []));
        expect(own.map((result) => (result.stored ? result.seq : undefined))).toEqual([1, 2, 3, 4]);
        expect(await inboxOf(userid)).toEqual(events.filter((e) => e.userid === userid).map((e) => e.id));
      }
      // The repeat, in the same call, was answered with the first answer and stored nothing.
      expect(results[events.length]).toEqual({
        stored: false,
        previous: { id: events[4].id, userid: events[4].userid, delivered: 0, stored: true },
      });
      expect(
        JSON.parse((await redis.client.hget(`inbox:${events[4].userid}:events`, events[4].id)) ?? '{}'),
      ).toEqual(events[4]);
    });

    it(`splits a turn of more than ${STORE_BATCH_MAX} events into calls of at most ${STORE_BATCH_MAX}`, async () => {
      const userids = users('store-many', 5);
      const events = Array.from({ length: STORE_BATCH_MAX + 7 }, (_, i) =>
        eventFor(userids[i % userids.length]),
      );
      const calls = storeCalls();

      const results = await Promise.all(events.map(append));

      expect(results.every((result) => result.stored)).toBe(true);
      expect(calls).toEqual([6 * STORE_BATCH_MAX, 6 * 7]);
    });

    it('stores a large event by a call of its own', async () => {
      const [userid] = users('store-large', 1);
      const large = { ...eventFor(userid), data: { text: 'x'.repeat(100 * 1024) } };
      const small = [eventFor(userid), eventFor(userid)];
      const calls = storeCalls();

      const results = await Promise.all([append(small[0]), append(large), append(small[1])]);

      expect(results.map((result) => result.stored)).toEqual([true, true, true]);
      expect([...calls].sort((a, b) => a - b)).toEqual([6, 12]);
      expect(await inboxOf(userid)).toHaveLength(3);
    });

    it('fails the store whose keys are broken, and stores the others of its turn', async () => {
      const [good, broken] = users('store-isolated', 2);
      // The broken user's sequence counter holds a hash: INCR on it fails in Redis.
      await redis.client.hset(`inbox:${broken}:next`, 'not', 'a counter');
      const events = [eventFor(good), eventFor(broken), eventFor(good)];

      const results = await Promise.allSettled(events.map(append));

      expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
      expect(await inboxOf(good)).toEqual([events[0].id, events[2].id]);
      // Nothing of the failed store was recorded: a retry of its POST is not taken for a repeat.
      expect(await redis.client.exists(`event-id:${broken}:${events[1].id}`)).toBe(0);
    });
  });
});
