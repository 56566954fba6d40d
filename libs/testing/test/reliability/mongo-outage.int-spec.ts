/* Fault 4 (issue 9): the MongoDB-protocol server is SIGKILLed while clients keep creating and reading
 * todos. Requests during the outage get 503 problem+json within a bounded time (never a 500, never a hang),
 * the todo-service recovers by itself when the server is back, and every 201 it returned is readable. */
import {
  type LocalServer,
  serviceEnv,
  spawnService,
  startFerretDb,
  testNamespace,
  type ServiceProcess,
  waitFor,
} from '@app/testing';
import type { TodoJson } from '@app/contracts';
import { requestJson } from './support';

/** Longest a request may take during the outage before it counts as a hang. */
const BOUND_MS = 15_000;

interface Outcome {
  status: number;
  ms: number;
  contentType: string | null;
  body: unknown;
  phase: 'before' | 'outage' | 'after';
  kind: 'create' | 'read';
}

describe('fault: the MongoDB-protocol server stops during creates and reads', () => {
  const ns = testNamespace();
  let mongo: LocalServer;
  let todo: ServiceProcess;

  beforeAll(async () => {
    mongo = await startFerretDb();
    todo = await spawnService(
      'todo-service',
      serviceEnv('todo-service', ns, {
        MONGODB_URI: `${mongo.url}outage`,
        HEALTH_TIMEOUT_MS: '500',
        LOG_LEVEL: 'warn',
      }),
      { waitReady: true },
    );
  });

  afterAll(async () => {
    await todo?.stop();
    await mongo?.dispose();
  });

  it('answers 503 problem+json within a bounded time during the outage, recovers by itself, and every 201 is readable afterwards', async () => {
    const outcomes: Outcome[] = [];
    let phase: Outcome['phase'] = 'before';
    let running = true;
    let sequence = 0;
    /** Sends requests one after the other until the test stops, recording each outcome. */
    const client = async (
      kind: Outcome['kind'],
      send: () => ReturnType<typeof requestJson>,
    ): Promise<void> => {
      while (running) {
        const started = Date.now();
        const at = phase;
        try {
          const response = await send();
          outcomes.push({
            status: response.status,
            ms: Date.now() - started,
            contentType: response.headers.get('content-type'),
            body: response.body,
            phase: at,
            kind,
          });
        } catch (error) {
          outcomes.push({
            status: -1,
            ms: Date.now() - started,
            contentType: null,
            body: String(error),
            phase: at,
            kind,
          });
        }
      }
    };
    const writer = (worker: number): Promise<void> =>
      client('create', () => {
        const n = sequence++;
        return requestJson(`${todo.url}/todos`, {
          body: { userid: `writer-${worker}`, content: { title: `create ${n}`, n } },
          timeoutMs: BOUND_MS + 5_000,
        });
      });
    // Reads take another path (the driver's own collection handle, not a mongoose query): they too
    // must answer 503, not 500, while the server is gone.
    const reader = (todoid: number): Promise<void> =>
      client('read', () => requestJson(`${todo.url}/todos/${todoid}`, { timeoutMs: BOUND_MS + 5_000 }));
    const writers = Promise.all([0, 1, 2, 3].map(writer));

    /** Waits until `count` outcomes with these fields (status, and phase or kind when given) were recorded. */
    const recorded = (
      match: Pick<Outcome, 'status'> & Partial<Pick<Outcome, 'phase' | 'kind'>>,
      count: number,
      description: string,
      timeoutMs = 60_000,
    ): Promise<boolean> =>
      waitFor(
        () =>
          outcomes.filter(
            (o) =>
              o.status === match.status &&
              (match.phase === undefined || o.phase === match.phase) &&
              (match.kind === undefined || o.kind === match.kind),
          ).length >= count,
        { timeoutMs, description },
      );

    await recorded({ status: 201 }, 20, '20 creates before the outage', 20_000);
    const first = outcomes.find((o) => o.status === 201)!.body as { todoid: number };
    const readers = reader(first.todoid);
    await mongo.stop('SIGKILL');
    phase = 'outage';
    await recorded(
      { phase: 'outage', status: 503, kind: 'create' },
      8,
      '8 creates answered 503 during the outage',
    );
    await recorded(
      { phase: 'outage', status: 503, kind: 'read' },
      2,
      '2 reads answered 503 during the outage',
    );
    await waitFor(async () => (await fetch(`${todo.url}/health/ready`)).status === 503, {
      timeoutMs: 10_000,
      description: 'readiness 503 during the outage',
    });

    await mongo.start();
    phase = 'after';
    await recorded({ phase: 'after', status: 201 }, 10, '10 creates accepted after the server is back');
    await recorded(
      { phase: 'after', status: 200, kind: 'read' },
      1,
      'a read answered 200 after the server is back',
    );
    running = false;
    await Promise.all([writers, readers]);
    await waitFor(async () => (await fetch(`${todo.url}/health/ready`)).status === 200, {
      timeoutMs: 10_000,
      description: 'readiness 200 after the outage',
    });

    const unexpected = outcomes.filter(
      (o) => (o.kind === 'create' ? o.status !== 201 : o.status !== 200) && o.status !== 503,
    );
    expect(unexpected).toEqual([]);
    const unavailable = outcomes.filter((o) => o.status === 503);
    for (const answer of unavailable) {
      expect(answer.contentType).toContain('application/problem+json');
      expect(answer.body).toMatchObject({ status: 503, title: expect.any(String), type: expect.any(String) });
    }
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    expect(slowest).toBeLessThanOrEqual(BOUND_MS);

    const accepted = outcomes
      .filter((o) => o.status === 201)
      .map((o) => o.body as { todoid: number; userid: string; content: { n: number } });
    expect(new Set(accepted.map((t) => t.todoid)).size).toBe(accepted.length);
    const unreadable: number[] = [];
    for (const created of accepted) {
      const read = await requestJson<TodoJson>(`${todo.url}/todos/${created.todoid}`);
      if (
        read.status !== 200 ||
        read.body.userid !== created.userid ||
        read.body.content?.n !== created.content.n
      ) {
        unreadable.push(created.todoid);
      }
    }
    expect(unreadable).toEqual([]);
    process.stderr.write(
      `[reliability] mongo SIGKILL: ${outcomes.length} creates, ${accepted.length} x 201 (all readable), ${unavailable.length} x 503, ` +
        `slowest ${slowest} ms, 503 latency max ${Math.max(...unavailable.map((o) => o.ms))} ms\n`,
    );
  });
});
