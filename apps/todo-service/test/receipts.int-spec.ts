import { getConnectionToken } from '@nestjs/mongoose';
import Redis from 'ioredis';
import mongoose, { type Connection } from 'mongoose';
import { RECEIPTS_GROUP, RECEIPTS_STREAM, TODO_COMPLETED_EVENT } from '@app/contracts';
import { serviceEnv, startTestApp, testNamespace, waitFor, type TestApp } from '@app/testing';
import { ReceiptsConsumer } from '../src/receipts/receipts.consumer';
import { todoService } from '../src/service';
import { EventReceiver } from './event-receiver';
import { call } from './http';

describe('delivery receipts (issue 10)', () => {
  const ns = testNamespace();
  let receiver: EventReceiver;
  let service: TestApp | undefined;
  let redis: Redis;
  const env = (): Record<string, string | undefined> =>
    serviceEnv('todo-service', ns, { EVENT_API_URL: receiver.url });

  /** Appends a receipt as the gateway does (same key prefix, same fields). */
  async function writeReceipt(eventId: string, userid: string, ackedAt: string): Promise<string> {
    return (await redis.xadd(
      RECEIPTS_STREAM,
      '*',
      'eventId',
      eventId,
      'userid',
      userid,
      'type',
      TODO_COMPLETED_EVENT,
      'ackedAt',
      ackedAt,
    ))!;
  }

  async function completedTodo(
    userid: string,
  ): Promise<{ todoid: number; eventId: string; completedAt: string }> {
    const created = await call(service!.url, 'POST', '/todos', { userid, content: {} });
    const completed = await call(service!.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`);
    expect(completed.status).toBe(200);
    return {
      todoid: created.body.todoid,
      eventId: completed.body.event.id,
      completedAt: completed.body.todo.completedAt,
    };
  }

  function todosCollection(): ReturnType<Connection['collection']> {
    return service!.app.get<Connection>(getConnectionToken()).collection('todos');
  }

  /**
   * Leaves a todo as another replica does while its completing request waits for the gateway:
   * pending, with that request named as the holder until a time still to come.
   */
  async function deliveringElsewhere(todoid: number): Promise<void> {
    await todosCollection().updateOne({ _id: String(todoid) } as never, {
      $set: {
        'downstream.status': 'pending',
        'downstream.lockedBy': 'another replica',
        'downstream.lockedUntil': new Date(Date.now() + 60_000),
      },
    });
  }

  beforeAll(async () => {
    redis = new Redis(ns.redisUrl, { keyPrefix: ns.redisKeyPrefix });
    receiver = await new EventReceiver().start();
    service = await startTestApp(todoService, env());
  });

  afterAll(async () => {
    await service?.close();
    await receiver.stop();
    await redis.quit();
  });

  it('shows acked with acknowledgedAt within 2 s of the receipt', async () => {
    const todo = await completedTodo('acker');
    const ackedAt = new Date(Date.parse(todo.completedAt) + 150).toISOString();
    await writeReceipt(todo.eventId, 'acker', ackedAt);
    const read = await waitFor(
      async () => {
        const answer = await call(service!.url, 'GET', `/todos/${todo.todoid}`);
        return answer.body.downstream.status === 'acked' ? answer.body : undefined;
      },
      { timeoutMs: 2_000, description: 'the todo to show acked' },
    );
    expect(read.downstream).toEqual({ eventId: todo.eventId, status: 'acked', acknowledgedAt: ackedAt });
    expect(Date.parse(read.downstream.acknowledgedAt)).toBeGreaterThan(Date.parse(read.completedAt));

    const acked = await call(service!.url, 'GET', '/todos?downstream.status=acked&userid=acker');
    expect(acked.body.map((t: { todoid: number }) => t.todoid)).toEqual([todo.todoid]);
    const metrics = await (await fetch(`${service!.url}/metrics`)).text();
    expect(metrics).toMatch(/todo_completion_ack_seconds_count\{[^}]*\} [1-9]/);
    // Recorded receipts are acknowledged in the consumer group.
    await waitFor(
      async () => ((await redis.xpending(RECEIPTS_STREAM, RECEIPTS_GROUP)) as [number])[0] === 0,
      {
        description: 'no pending receipts',
      },
    );
  });

  it('never lets a late stored overwrite acked', async () => {
    receiver.hold();
    const created = await call(service!.url, 'POST', '/todos', { userid: 'fast-acker', content: {} });
    const completing = call(service!.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`);
    // The gateway has the event but has not answered yet; meanwhile the user acknowledges it.
    await waitFor(() => receiver.received.some((e) => e.body.data.todoid === created.body.todoid), {
      description: 'the event to reach the receiver',
    });
    const eventId = receiver.received.find((e) => e.body.data.todoid === created.body.todoid)!.body.id;
    const ackedAt = new Date().toISOString();
    await writeReceipt(eventId, 'fast-acker', ackedAt);
    // The receipt is recorded under the event's lease, after the delivery in flight records its
    // outcome: whatever the order of the two writes, the todo ends acked.
    receiver.release();
    const completed = await completing;
    expect(completed.status).toBe(200);
    expect(completed.body.event.id).toBe(eventId);
    await waitFor(
      async () =>
        (await call(service!.url, 'GET', `/todos/${created.body.todoid}`)).body.downstream.status === 'acked',
      { timeoutMs: 2_000, description: 'acked within 2 s of the late gateway answer' },
    );
    expect((await call(service!.url, 'GET', `/todos/${created.body.todoid}`)).body.downstream).toEqual({
      eventId,
      status: 'acked',
      acknowledgedAt: ackedAt,
    });
  });

  it('hands a receipt that arrives during the delivery to the delivering request: one write records both', async () => {
    receiver.hold();
    const created = await call(service!.url, 'POST', '/todos', { userid: 'handed-over', content: {} });
    const writes: string[] = [];
    mongoose.set('debug', (collection: string, method: string) => {
      // Everything but the outbox dispatcher's periodic poll (a find).
      if (method !== 'find') {
        writes.push(`${collection}.${method}`);
      }
    });
    try {
      const completing = call(service!.url, 'POST', `/todos/${created.body.todoid}/complete/downstream`);
      await waitFor(() => receiver.received.some((e) => e.body.data.todoid === created.body.todoid), {
        description: 'the event to reach the receiver',
      });
      const eventId = receiver.received.find((e) => e.body.data.todoid === created.body.todoid)!.body.id;
      const ackedAt = new Date().toISOString();
      const entry = await writeReceipt(eventId, 'handed-over', ackedAt);
      // The consumer has read the receipt (it is pending in the group) while the delivery waits
      // for the gateway's answer.
      await waitFor(
        async () =>
          ((await redis.xpending(RECEIPTS_STREAM, RECEIPTS_GROUP, '-', '+', 100)) as Array<[string]>).some(
            ([id]) => id === entry,
          ),
        { description: 'the consumer to read the receipt' },
      );
      receiver.release();
      expect((await completing).status).toBe(200);
      await waitFor(
        async () => ((await redis.xpending(RECEIPTS_STREAM, RECEIPTS_GROUP)) as [number])[0] === 0,
        { description: 'the receipt to be recorded and acknowledged in the stream' },
      );
      expect((await call(service!.url, 'GET', `/todos/${created.body.todoid}`)).body.downstream).toEqual({
        eventId,
        status: 'acked',
        acknowledgedAt: ackedAt,
      });
    } finally {
      receiver.release();
      mongoose.set('debug', false);
    }
    // The todo written twice (completed, then acked): no lease document for the completion or
    // the receipt, no read of the todo, no separate `delivered` write.
    expect(writes.sort()).toEqual(['todos.findOneAndUpdate', 'todos.updateOne']);
  });

  it('waits for a first completion that another replica is delivering before recording its receipt', async () => {
    const todo = await completedTodo('other-replica');
    const todos = todosCollection();
    await deliveringElsewhere(todo.todoid);
    const operations: string[] = [];
    mongoose.set('debug', (collection: string, method: string) => {
      // Not `find`: the outbox dispatcher's periodic poll.
      if (collection === 'todos' && method !== 'find') {
        operations.push(method);
      }
    });
    const ackedAt = new Date().toISOString();
    try {
      await writeReceipt(todo.eventId, 'other-replica', ackedAt);
      // The receipt reads the todo, sees the delivery in flight, and looks again later, without
      // writing (a receipt that did not wait would write acked after its first read).
      await waitFor(() => operations.filter((m) => m === 'findOne').length >= 2, {
        timeoutMs: 5_000,
        description: 'the receipt to look at the todo twice',
      });
      // Its only write was the one-step ack, conditional on a delivery that is over: it did not match.
      expect(operations.filter((m) => m !== 'findOne')).toEqual(['findOneAndUpdate']);
      expect(await todos.findOne({ _id: String(todo.todoid) } as never)).toMatchObject({
        downstream: { status: 'pending', acknowledgedAt: null },
      });
    } finally {
      mongoose.set('debug', false);
    }
    // That replica records the gateway's answer (unconditionally here, as a write that is not
    // atomic with its condition may on some MongoDB-protocol servers).
    await todos.updateOne({ _id: String(todo.todoid) } as never, {
      $set: { 'downstream.status': 'delivered', 'downstream.lockedBy': null, 'downstream.lockedUntil': null },
    });
    await waitFor(
      async () =>
        (await call(service!.url, 'GET', `/todos/${todo.todoid}`)).body.downstream.status === 'acked',
      { timeoutMs: 5_000, description: 'the receipt to be recorded once the delivery is' },
    );
    expect((await call(service!.url, 'GET', `/todos/${todo.todoid}`)).body.downstream).toEqual({
      eventId: todo.eventId,
      status: 'acked',
      acknowledgedAt: ackedAt,
    });
  });

  it('records the receipt of an accepted event in one write, finding its todo by primary key (its event id names it)', async () => {
    const todo = await completedTodo('by-key');
    const filters: Array<Record<string, unknown>> = [];
    const operations: string[] = [];
    mongoose.set('debug', (collection: string, method: string, filter: unknown) => {
      // Not `find`: the outbox dispatcher's periodic poll.
      if (method !== 'find') {
        operations.push(`${collection}.${method}`);
        filters.push(filter as Record<string, unknown>);
      }
    });
    try {
      await writeReceipt(todo.eventId, 'by-key', new Date().toISOString());
      await waitFor(
        async () =>
          (await call(service!.url, 'GET', `/todos/${todo.todoid}`)).body.downstream.status === 'acked',
        { timeoutMs: 2_000, description: 'the todo to show acked' },
      );
    } finally {
      mongoose.set('debug', false);
    }
    // The event was accepted and its delivery is over: one conditional write records the receipt,
    // no lease, no read first.
    expect(operations).toEqual(['todos.findOneAndUpdate']);
    expect(filters[0]).toMatchObject({ _id: String(todo.todoid), 'downstream.eventId': todo.eventId });
  });

  it('records receipts of other events while one waits for its event', async () => {
    // A receipt may have to wait (another replica is delivering its event): the ones behind it must not.
    const held = await completedTodo('delivery-elsewhere');
    const free = await completedTodo('delivery-over');
    const todos = todosCollection();
    await deliveringElsewhere(held.todoid);
    try {
      await writeReceipt(held.eventId, 'delivery-elsewhere', new Date().toISOString());
      await writeReceipt(free.eventId, 'delivery-over', new Date().toISOString());
      await waitFor(
        async () =>
          (await call(service!.url, 'GET', `/todos/${free.todoid}`)).body.downstream.status === 'acked',
        { timeoutMs: 2_000, description: 'the receipt behind the waiting one to be recorded within 2 s' },
      );
      expect((await call(service!.url, 'GET', `/todos/${held.todoid}`)).body.downstream.status).toBe(
        'pending',
      );
    } finally {
      await todos.updateOne({ _id: String(held.todoid) } as never, {
        $set: {
          'downstream.status': 'delivered',
          'downstream.lockedBy': null,
          'downstream.lockedUntil': null,
        },
      });
    }
    await waitFor(
      async () =>
        (await call(service!.url, 'GET', `/todos/${held.todoid}`)).body.downstream.status === 'acked',
      { timeoutMs: 5_000, description: 'the waiting receipt to be recorded once the delivery is over' },
    );
  });

  it('ignores a receipt for an unknown event and acknowledges it in the stream', async () => {
    await writeReceipt('00000000-0000-5000-8000-000000000000', 'nobody', new Date().toISOString());
    await redis.xadd(RECEIPTS_STREAM, '*', 'garbage', 'yes');
    await waitFor(
      async () => ((await redis.xpending(RECEIPTS_STREAM, RECEIPTS_GROUP)) as [number])[0] === 0,
      {
        description: 'the unknown receipts to be acknowledged',
      },
    );
    expect((await call(service!.url, 'GET', '/todos?downstream.status=acked&userid=nobody')).body).toEqual(
      [],
    );
  });

  it('records a receipt written while the todo-service was down once it is back', async () => {
    const todo = await completedTodo('while-down');
    await service!.close();
    service = undefined;
    const ackedAt = new Date().toISOString();
    await writeReceipt(todo.eventId, 'while-down', ackedAt);
    service = await startTestApp(todoService, env());
    const read = await waitFor(
      async () => {
        const answer = await call(service!.url, 'GET', `/todos/${todo.todoid}`);
        return answer.body.downstream.status === 'acked' ? answer.body : undefined;
      },
      { timeoutMs: 5_000, description: 'the receipt to land after the restart' },
    );
    expect(read.downstream.acknowledgedAt).toBe(ackedAt);
  });

  it('takes over a receipt another consumer read but never acknowledged', async () => {
    const todo = await completedTodo('orphan');
    // A consumer that dies right after reading: the entry stays pending under its name.
    const dead = new Redis(ns.redisUrl, { keyPrefix: ns.redisKeyPrefix });
    try {
      await service!.close();
      service = undefined;
      await writeReceipt(todo.eventId, 'orphan', new Date().toISOString());
      const read = await dead.xreadgroup(
        'GROUP',
        RECEIPTS_GROUP,
        'dead-consumer',
        'COUNT',
        10,
        'STREAMS',
        RECEIPTS_STREAM,
        '>',
      );
      expect(read).not.toBeNull();
    } finally {
      dead.disconnect();
    }
    service = await startTestApp(todoService, env());
    await waitFor(
      async () =>
        (await call(service!.url, 'GET', `/todos/${todo.todoid}`)).body.downstream.status === 'acked',
      {
        timeoutMs: 10_000,
        description: "the dead consumer's receipt to be reclaimed",
      },
    );
  });

  it('removes consumers that have gone (silent, nothing pending) from the group, and keeps the live one', async () => {
    await service?.close();
    service = await startTestApp(todoService, { ...env(), RECEIPTS_CLAIM_IDLE_MS: '100' });
    const live = service.app.get(ReceiptsConsumer).consumerName;
    // XGROUP and XINFO take their key after a subcommand: ioredis would not prefix it.
    const plain = new Redis(ns.redisUrl);
    const key = `${ns.redisKeyPrefix}${RECEIPTS_STREAM}`;
    const names = async (): Promise<string[]> =>
      ((await plain.xinfo('CONSUMERS', key, RECEIPTS_GROUP)) as unknown[][]).map((fields) =>
        String(fields[1]),
      );
    try {
      await plain.xgroup('CREATECONSUMER', key, RECEIPTS_GROUP, 'stopped-process');
      expect(await names()).toContain('stopped-process');
      // Redis adds a consumer to the group when it first receives an entry: give the live one one.
      await writeReceipt('unknown-event-for-the-live-consumer', 'nobody', new Date().toISOString());
      await waitFor(async () => (await names()).includes(live), {
        description: 'the live consumer to receive the entry',
      });
      await waitFor(async () => !(await names()).includes('stopped-process'), {
        timeoutMs: 15_000,
        description: 'the departed consumer to leave the group',
      });
      expect(await names()).toContain(live);
    } finally {
      plain.disconnect();
      await service.close();
      service = await startTestApp(todoService, env());
    }
  });
});
