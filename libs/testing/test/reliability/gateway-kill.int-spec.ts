/* Fault 1 (issue 9): the event-gateway is killed with SIGKILL while completions stream to a connected
 * user, then restarted on the same port. The todo-service's outbox and the gateway's Redis inbox
 * together must get every event id to the user at least once. CI runs RELIABILITY_COMPLETIONS (default
 * 150: on FerretDB a completion takes ~0.3 s of wall time under load); scripts/fuzz-long.mjs runs the 500. */
import {
  freePort,
  serviceEnv,
  spawnService,
  testNamespace,
  type ServiceProcess,
  waitFor,
} from '@app/testing';
import {
  completeTodo,
  connectUser,
  createTodo,
  envInt,
  mapLimit,
  type UserClient,
  waitForIds,
} from './support';
import { tokenMinter, type TokenMinter } from './token-minter';

const COMPLETIONS = envInt('RELIABILITY_COMPLETIONS', 150);

describe('fault: the event-gateway is SIGKILLed while completions stream to a user', () => {
  const ns = testNamespace();
  let gateway: ServiceProcess;
  let todo: ServiceProcess;
  let minter: TokenMinter;
  let client: UserClient | undefined;

  beforeAll(async () => {
    const gatewayPort = await freePort();
    gateway = await spawnService('event-gateway', serviceEnv('event-gateway', ns, { LOG_LEVEL: 'warn' }), {
      port: gatewayPort,
      waitReady: true,
    });
    todo = await spawnService(
      'todo-service',
      serviceEnv('todo-service', ns, { EVENT_API_URL: gateway.url, LOG_LEVEL: 'warn' }),
      { waitReady: true },
    );
    minter = tokenMinter(ns.redisUrl, ns.redisKeyPrefix);
  });

  afterAll(async () => {
    client?.close();
    await Promise.all([gateway?.stop('SIGKILL'), todo?.stop()]);
    await minter?.close();
  });

  it(
    `delivers all ${COMPLETIONS} completion events at least once after a gateway SIGKILL and restart, none lost`,
    async () => {
      const started = Date.now();
      const userid = 'kill.user@example';
      client = await connectUser(gateway.url, userid, await minter.mint(userid));
      const todos = await mapLimit(
        Array.from({ length: COMPLETIONS }, (_, i) => i),
        16,
        (i) => createTodo(todo.url, userid, { title: `kill-${i}` }),
      );

      const created = Date.now();
      const eventIds: string[] = [];
      let killed = false;
      let restarted: Promise<void> = Promise.resolve();
      const killAt = Math.floor(COMPLETIONS / 3);
      const statuses: Record<string, number> = {};
      await mapLimit(todos, 16, async (created, index) => {
        if (index === killAt && !killed) {
          killed = true;
          await gateway.stop('SIGKILL');
          // restart in the background while completions keep coming in
          restarted = gateway.start();
          restarted.catch(() => undefined); // awaited below
        }
        const completion = await completeTodo(todo.url, created.todoid);
        statuses[completion.event.status] = (statuses[completion.event.status] ?? 0) + 1;
        eventIds.push(completion.event.id);
      });
      const completed = Date.now();
      expect(killed).toBe(true);
      expect(new Set(eventIds).size).toBe(COMPLETIONS);

      await restarted;
      await waitFor(async () => (await fetch(`${gateway.url}/health/ready`)).ok, {
        timeoutMs: 30_000,
        description: 'the restarted gateway to be ready',
      });
      try {
        await waitForIds(client, eventIds, 90_000);
      } finally {
        process.stderr.write(
          `[reliability] gateway SIGKILL timings: creates ${created - started} ms, completions ${completed - created} ms, ` +
            `delivery of all ${Date.now() - completed} ms after the last completion; ${client.ids.size} ids held\n`,
        );
      }

      expect(client.connects).toBeGreaterThanOrEqual(2);
      const received = client.events.filter((event) => eventIds.includes(event.id));
      expect(received.every((event) => event.type === 'todo.completed')).toBe(true);
      // Numbers for docs/RELIABILITY.md.
      process.stderr.write(
        `[reliability] gateway SIGKILL: ${COMPLETIONS} completions ${JSON.stringify(statuses)}, ` +
          `${client.ids.size} distinct ids, ${client.events.length} deliveries (duplicates ${client.events.length - client.ids.size}), connects ${client.connects}\n`,
      );
      // About 0.3 s of wall time per completion on FerretDB under CI load, plus the restart.
    },
    90_000 + COMPLETIONS * 600,
  );
});
