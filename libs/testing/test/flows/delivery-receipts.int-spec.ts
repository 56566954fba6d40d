/* Issue 10 on real servers: the real event-gateway and todo-service (in process), a real
 * socket.io-client as the external portal, and the receipt travelling back over Redis. */
import { io, type Socket } from 'socket.io-client';
import type { DownstreamEvent, TodoJson } from '@app/contracts';
import { serviceEnv, startTestApp, type TestApp, testNamespace, waitFor } from '@app/testing';
import { eventGateway } from '../../../../apps/event-gateway/src/service';
import { todoService } from '../../../../apps/todo-service/src/service';
import { type TokenMinter, tokenMinter } from '../reliability/token-minter';

type Received = { event: DownstreamEvent<TodoJson>; ack: () => void };

describe('delivery receipts: the internal portal sees when the external user acknowledged', () => {
  const ns = testNamespace();
  let gateway: TestApp;
  let todos: TestApp;
  let tokens: TokenMinter;
  const sockets: Socket[] = [];

  const startTodos = () => startTestApp(todoService, serviceEnv('todo-service', ns, { EVENT_API_URL: gateway.url }));

  beforeAll(async () => {
    gateway = await startTestApp(eventGateway, serviceEnv('event-gateway', ns));
    todos = await startTodos();
    tokens = tokenMinter(ns.redisUrl, ns.redisKeyPrefix);
  });

  afterEach(() => {
    sockets.splice(0).forEach((socket) => socket.disconnect());
  });

  afterAll(async () => {
    await todos?.close();
    await gateway?.close();
    await tokens?.close();
  });

  /** A portal that records events and acknowledges only when told to. */
  async function connect(userid: string, autoAck: boolean): Promise<Received[]> {
    const received: Received[] = [];
    const socket = io(gateway.url, { auth: { token: await tokens.mint(userid) }, transports: ['websocket'], reconnection: false });
    sockets.push(socket);
    socket.on('downstream', (event: DownstreamEvent<TodoJson>, ack: () => void) => {
      received.push({ event, ack });
      if (autoAck) {
        ack();
      }
    });
    await waitFor(() => socket.connected, { description: `${userid} to connect` });
    return received;
  }

  async function completedTodo(userid: string): Promise<{ todoid: number; eventId: string; status: string }> {
    const created = await fetch(`${todos.url}/todos`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ userid, content: { title: `for ${userid}` } }),
    });
    const { todoid } = (await created.json()) as TodoJson;
    const completed = await fetch(`${todos.url}/todos/${todoid}/complete/downstream`, { method: 'POST' });
    expect(completed.status).toBe(200);
    const body = (await completed.json()) as { event: { id: string; status: string } };
    return { todoid, eventId: body.event.id, status: body.event.status };
  }

  async function todo(todoid: number): Promise<TodoJson> {
    return (await (await fetch(`${todos.url}/todos/${todoid}`)).json()) as TodoJson;
  }

  const acked = (todoid: number, timeoutMs: number) =>
    waitFor(async () => ((await todo(todoid)).downstream?.status === 'acked' ? todo(todoid) : undefined), {
      timeoutMs,
      description: `todo ${todoid} to show acked`,
    });

  it('shows acked within 2 s of an online user acknowledging, with acknowledgedAt after completedAt', async () => {
    const received = await connect('rcpt-online', true);
    const { todoid, eventId, status } = await completedTodo('rcpt-online');
    expect(status).toBe('delivered');
    await waitFor(() => received.find((r) => r.event.id === eventId), { description: 'the event at the client' });
    const ackedAt = Date.now();
    const shown = await acked(todoid, 2_000);
    expect(Date.now() - ackedAt).toBeLessThanOrEqual(2_000);
    expect(shown.downstream).toMatchObject({ eventId, status: 'acked' });
    expect(Date.parse(shown.downstream!.acknowledgedAt!)).toBeGreaterThanOrEqual(Date.parse(shown.completedAt!));
    const listed = (await (await fetch(`${todos.url}/todos?userid=rcpt-online`)).json()) as TodoJson[];
    expect(listed.find((t) => t.todoid === todoid)?.downstream?.status).toBe('acked');
  });

  it('shows stored for an offline user, then acked once the user connects and acknowledges', async () => {
    const { todoid, eventId, status } = await completedTodo('rcpt-offline');
    expect(status).toBe('stored');
    expect((await todo(todoid)).downstream).toEqual({ eventId, status: 'stored', acknowledgedAt: null });

    const received = await connect('rcpt-offline', true);
    await waitFor(() => received.find((r) => r.event.id === eventId), { description: 'the replayed event' });
    await acked(todoid, 2_000);
  });

  it('never shows acked for a client that received but did not acknowledge; after it reconnects and acknowledges, it does', async () => {
    const silent = await connect('rcpt-silent', false);
    const first = await completedTodo('rcpt-silent');
    await waitFor(() => silent.find((r) => r.event.id === first.eventId), { description: 'the event at the silent client' });

    // A fence: a later receipt of another user is recorded, so the stream was read past any receipt
    // the silent client could have produced.
    const other = await connect('rcpt-fence', true);
    const fence = await completedTodo('rcpt-fence');
    await waitFor(() => other.find((r) => r.event.id === fence.eventId), { description: 'the fence event' });
    await acked(fence.todoid, 5_000);
    expect((await todo(first.todoid)).downstream?.status).toBe('delivered');

    sockets.shift()?.disconnect();
    const again = await connect('rcpt-silent', true);
    await waitFor(() => again.find((r) => r.event.id === first.eventId), { description: 'the event replayed on reconnect' });
    await acked(first.todoid, 2_000);
  });

  it('records a receipt acknowledged while the todo-service was down once it is back', async () => {
    const received = await connect('rcpt-restart', false);
    const { todoid, eventId } = await completedTodo('rcpt-restart');
    const delivery = await waitFor(() => received.find((r) => r.event.id === eventId), { description: 'the event at the client' });

    await todos.close();
    delivery.ack();
    // The receipt waits in Redis until a todo-service reads it.
    todos = await startTodos();
    const shown = await acked(todoid, 10_000);
    expect(shown.downstream?.eventId).toBe(eventId);
  });
});
