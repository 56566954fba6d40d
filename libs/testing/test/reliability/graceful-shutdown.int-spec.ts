/* Fault 7 (issue 9): SIGTERM to the todo-service while requests are in flight. Requests already
 * received complete (including one whose body is still being uploaded when the signal lands); clients
 * see no 5xx other than refusals once the server has closed; the process exits 0. */
import { request } from 'node:http';
import { connect } from 'node:net';
import { serviceEnv, spawnService, testNamespace, type ServiceProcess, waitFor } from '@app/testing';
import { requestJson } from './support';

interface Outcome {
  status: number;
  error?: string;
  sentAfterSignal: boolean;
}

/** A POST whose body is sent in two halves: `finish()` sends the second half and resolves with the answer. */
function halfSentPost(url: string, body: string): { finish(): Promise<{ status: number; body: string }> } {
  const half = Math.floor(body.length / 2);
  let resolveAnswer: (value: { status: number; body: string }) => void;
  let rejectAnswer: (error: Error) => void;
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    resolveAnswer = resolve;
    rejectAnswer = reject;
  });
  const req = request(
    `${url}/todos`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    },
    (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, body: text }));
    },
  );
  req.on('error', (error) => rejectAnswer(error));
  req.write(body.slice(0, half));
  return {
    finish: () => {
      req.end(body.slice(half));
      return answer;
    },
  };
}

describe('fault: graceful shutdown of the todo-service under load', () => {
  const ns = testNamespace();
  let todo: ServiceProcess;

  beforeAll(async () => {
    todo = await spawnService('todo-service', serviceEnv('todo-service', ns, { LOG_LEVEL: 'info' }), {
      waitReady: true,
    });
  });

  afterAll(async () => {
    await todo?.stop('SIGKILL');
  });

  it('completes the requests in flight at SIGTERM, answers no 5xx beyond refusals after close, and exits 0', async () => {
    const outcomes: Outcome[] = [];
    let signalled = false;
    let running = true;
    const loader = async (worker: number): Promise<void> => {
      let n = 0;
      while (running) {
        const sentAfterSignal = signalled;
        try {
          const response =
            n++ % 2 === 0
              ? await requestJson(`${todo.url}/todos`, {
                  body: { userid: `load-${worker}`, content: { n } },
                  timeoutMs: 30_000,
                })
              : await requestJson(`${todo.url}/todos?userid=load-${worker}&limit=20`, { timeoutMs: 30_000 });
          outcomes.push({ status: response.status, sentAfterSignal });
        } catch (error) {
          // Connection refused/reset once the server has closed: expected, and stop this worker.
          outcomes.push({ status: -1, error: String((error as Error).cause ?? error), sentAfterSignal });
          return;
        }
      }
    };
    const loaders = Promise.all(Array.from({ length: 8 }, (_, worker) => loader(worker)));
    await waitFor(() => outcomes.length >= 50, { timeoutMs: 20_000, description: '50 requests under load' });

    const inFlight = halfSentPost(
      todo.url,
      JSON.stringify({
        userid: 'in.flight',
        content: { title: 'sent across the SIGTERM', pad: 'y'.repeat(20_000) },
      }),
    );
    // Let the server receive the headers and the first half (the request is then in flight).
    await waitFor(() => outcomes.length >= 60, {
      timeoutMs: 20_000,
      description: 'more requests under load',
    });
    const exited = todo.stop('SIGTERM');
    signalled = true;
    const signalledAt = Date.now();
    await waitFor(() => todo.output().includes('SIGTERM: draining'), {
      timeoutMs: 10_000,
      description: 'the service to start draining',
    });
    const answer = await inFlight.finish();
    const code = await exited;
    running = false;
    await loaders;

    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.body)).toMatchObject({
      userid: 'in.flight',
      content: { title: 'sent across the SIGTERM' },
    });
    const drainMs = Date.now() - signalledAt;
    // Exit 0 means the drain finished (exit 1: a close error, or the 25 s drain limit was hit).
    expect({ code, drainMs, log: code === 0 ? '' : todo.output().slice(-2_000) }).toEqual({
      code: 0,
      drainMs,
      log: '',
    });

    // A request sent just before the signal may still reach the server after it closed (a refusal):
    // the deterministic in-flight proof is the half-sent POST above.
    const beforeSignal = outcomes.filter((o) => !o.sentAfterSignal);
    // Requests that arrive on a kept-alive connection during the drain are served (with
    // `Connection: close`), not refused with 503: no 5xx at all.
    const serverErrors = outcomes.filter((o) => o.status >= 500);
    expect(serverErrors).toEqual([]);
    const afterSignal = outcomes.filter((o) => o.sentAfterSignal && o.status > 0).length;
    const refused = outcomes.filter((o) => o.status === -1).length;
    process.stderr.write(
      `[reliability] graceful shutdown: ${outcomes.length} requests, ${beforeSignal.length} sent before SIGTERM (${beforeSignal.filter((o) => o.status >= 200 && o.status < 500).length} answered 2xx/4xx), ` +
        `in-flight half-sent POST -> ${answer.status}, after SIGTERM ${afterSignal} answered, ${refused} refused, exit ${code} after ${drainMs} ms\n`,
    );
  });

  it('serves a request that arrives on an open keep-alive connection during the drain, with Connection: close', async () => {
    await todo.start();
    const drains = () => todo.output().split('SIGTERM: draining').length - 1;
    const drainsBefore = drains();
    const socket = connect(todo.port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const body = JSON.stringify({ userid: 'pipelined', content: { pad: 'z'.repeat(10_000) } });
    // Expect: 100-continue makes the server say when it has parsed the headers: from then on the
    // connection carries a request in progress, which the drain waits for.
    socket.write(
      `POST /todos HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
    );
    await waitFor(() => received.startsWith('HTTP/1.1 100'), {
      description: 'the 100 Continue of the server',
    });

    const exited = todo.stop('SIGTERM');
    await waitFor(() => drains() > drainsBefore, {
      description: 'the service to start draining',
    });
    // The rest of the body, and a second request right behind it on the same connection.
    socket.write(`${body}GET /todos?userid=pipelined HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    await closed;
    expect(await exited).toBe(0);

    const answers = received
      .split(/(?=HTTP\/1\.1 \d{3} )/)
      .filter((part) => !part.startsWith('HTTP/1.1 100'));
    expect(answers.map((answer) => Number(answer.slice(9, 12)))).toEqual([201, 200]);
    expect(answers[1]).toMatch(/\r\nconnection: close\r\n/i);
    // Node runs pipelined requests side by side (only the answers are ordered): the list may or may
    // not include the todo created just before; that it is answered at all is the point.
    expect(answers[1]).toMatch(/\r\nx-total-count: \d+\r\n/i);
  });
});
