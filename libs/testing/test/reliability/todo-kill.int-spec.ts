/* Fault 2 (issue 9): the todo-service dies between a completion and its dispatch. The completion was
 * answered (status pending: the gateway was not reachable yet), then the todo-service is SIGKILLed
 * before it could dispatch; the gateway comes up; after the todo-service restarts, the event arrives. */
import type { TodoJson } from '@app/contracts';
import {
  freePort,
  serviceEnv,
  spawnService,
  testNamespace,
  type ServiceProcess,
  waitFor,
} from '@app/testing';
import { completeTodo, connectUser, createTodo, requestJson, type UserClient, waitForIds } from './support';
import { tokenMinter, type TokenMinter } from './token-minter';

describe('fault: the todo-service is killed between a completion and its dispatch', () => {
  const ns = testNamespace();
  let gatewayPort: number;
  let gateway: ServiceProcess | undefined;
  let todo: ServiceProcess;
  let minter: TokenMinter;
  let client: UserClient | undefined;

  beforeAll(async () => {
    gatewayPort = await freePort();
    // The gateway's address is known, but nothing listens there yet: every dispatch fails.
    todo = await spawnService(
      'todo-service',
      serviceEnv('todo-service', ns, { EVENT_API_URL: `http://127.0.0.1:${gatewayPort}`, LOG_LEVEL: 'warn' }),
      {
        waitReady: true,
      },
    );
    minter = tokenMinter(ns.redisUrl, ns.redisKeyPrefix);
  });

  afterAll(async () => {
    client?.close();
    await Promise.all([gateway?.stop(), todo?.stop('SIGKILL')]);
    await minter?.close();
  });

  it('answers the completion with status pending, and delivers the event once the restarted todo-service dispatches it', async () => {
    const userid = 'outbox.user';
    const todos = await Promise.all(
      [1, 2, 3].map((i) => createTodo(todo.url, userid, { title: `outbox-${i}` })),
    );
    const completions = await Promise.all(todos.map((created) => completeTodo(todo.url, created.todoid)));
    expect(completions.map((completion) => completion.event.status)).toEqual([
      'pending',
      'pending',
      'pending',
    ]);

    // Killed before any dispatch could succeed (the gateway has never been up).
    expect(await todo.stop('SIGKILL')).toBeNull();

    gateway = await spawnService('event-gateway', serviceEnv('event-gateway', ns, { LOG_LEVEL: 'warn' }), {
      port: gatewayPort,
      waitReady: true,
    });
    client = await connectUser(gateway.url, userid, await minter.mint(userid));
    // Nothing arrives while the todo-service is down: the events only exist in its outbox.
    expect(client.ids.size).toBe(0);

    await todo.start();
    await waitForIds(
      client,
      completions.map((completion) => completion.event.id),
      30_000,
    );
    const delivered = client.events.filter((event) =>
      completions.some((completion) => completion.event.id === event.id),
    );
    expect(delivered.every((event) => event.type === 'todo.completed')).toBe(true);
    expect(delivered.map((event) => (event.data as { todoid: number }).todoid).sort((a, b) => a - b)).toEqual(
      [...new Set(todos.map((created) => created.todoid))].sort((a, b) => a - b),
    );

    let lastStatuses: unknown[] = [];
    // The client acknowledged every event: each todo's receipt reaches acked (the dispatch result and
    // the ack receipt are written under the event's lease, so a late `delivered` cannot win).
    await waitFor(
      async () => {
        const statuses = await Promise.all(
          todos.map(
            async (created) =>
              (await requestJson<TodoJson>(`${todo.url}/todos/${created.todoid}`)).body?.downstream?.status,
          ),
        );
        lastStatuses = statuses;
        return statuses.every((status) => status === 'acked') ? statuses : undefined;
      },
      { timeoutMs: 15_000, description: 'every receipt to reach acked' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; receipts were ${JSON.stringify(lastStatuses)}`);
    });
  });
});
