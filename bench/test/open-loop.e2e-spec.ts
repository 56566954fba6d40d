import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { benchModule, runScript } from './child-node';

/**
 * The fixed-rate latency runs of the HTTP scenarios (bench/lib/http-load.mjs `openLoopLoad`, oha)
 * must offer load open loop: requests due at evenly spaced times, latency counted from the due time.
 * A loopback server records when each request arrives and can hold answers back.
 */
interface LoadResult {
  ok: number;
  errors: number;
  statuses: Record<string, number>;
  p50: number;
  p99: number;
  loadgenCpu: number;
  tool: string;
}

/** Runs openLoopLoad in a child process (the bench is ES modules) and returns its result. */
async function openLoopLoad(spec: Record<string, unknown>): Promise<LoadResult> {
  const script = `import(${benchModule('http-load.mjs')}).then(async ({ openLoopLoad }) => process.stdout.write(JSON.stringify(await openLoopLoad(JSON.parse(process.argv[1])))))`;
  return runScript<LoadResult>(script, [JSON.stringify(spec)], 60_000);
}

describe('the open-loop load of the fixed-rate latency runs (oha)', () => {
  let server: Server;
  let url: string;
  let arrivals: Array<{ at: number; method: string; path: string; body: string }>;
  /** When set, answers wait this long after the first request arrives. */
  let stallMs: number | undefined;
  let stall: Promise<void> | undefined;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const at = performance.now();
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        arrivals.push({ at, method: request.method ?? '', path: request.url ?? '', body });
        if (stallMs !== undefined && !stall) {
          stall = new Promise((done) => setTimeout(done, stallMs));
        }
        void (stall ?? Promise.resolve()).then(() => response.end('ok'));
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    arrivals = [];
    stallMs = undefined;
    stall = undefined;
  });

  afterAll(async () => {
    await new Promise((done) => server.close(done));
  });

  it('spreads the requests over the run instead of sending each second’s quota at once', async () => {
    const result = await openLoopLoad({
      url,
      path: '/auth/verify',
      overallRate: 200,
      duration: 1,
      connections: 4,
    });
    expect(result).toMatchObject({ tool: 'oha', errors: 0, statuses: { 200: arrivals.length } });
    expect(arrivals.length).toBeGreaterThanOrEqual(150);
    // At 200/s, about 40 fall in any 200 ms; a per-second quota sent back to back puts all of them
    // in the first.
    const first = arrivals[0].at;
    const inFirstFifth = arrivals.filter(({ at }) => at - first < 200).length;
    expect(inFirstFifth).toBeLessThan(arrivals.length / 2);
  }, 60_000);

  it('counts latency from the time a request was due, so requests held behind a stall show it', async () => {
    // The answers wait until 600 ms after the first request: with 2 connections, the requests due
    // meanwhile queue in the load generator, and their latency includes that wait although the
    // server answers them at once when they arrive.
    stallMs = 600;
    const result = await openLoopLoad({ url, path: '/', overallRate: 100, duration: 1, connections: 2 });
    expect(result.ok).toBeGreaterThanOrEqual(80);
    expect(result.p50).toBeGreaterThan(100);
  }, 60_000);

  it('sends the method, headers, random paths and bodies the scenario asks for', async () => {
    await openLoopLoad({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer t' },
      path: '/todos',
      todoBody: true,
      overallRate: 100,
      duration: 0.5,
      connections: 2,
    });
    expect(arrivals.length).toBeGreaterThan(0);
    for (const arrival of arrivals) {
      expect(arrival).toMatchObject({ method: 'POST', path: '/todos' });
      expect(JSON.parse(arrival.body)).toMatchObject({ userid: expect.stringMatching(/^bench-user-\d+$/) });
    }
    arrivals = [];
    await openLoopLoad({
      url,
      randomPath: { prefix: '/todos/', min: 1, max: 1_000 },
      overallRate: 200,
      duration: 0.5,
      connections: 2,
    });
    const paths = new Set(arrivals.map(({ path }) => path));
    expect([...paths].every((path) => /^\/todos\/\d+$/.test(path))).toBe(true);
    expect(paths.size).toBeGreaterThan(10);
  }, 60_000);
});
