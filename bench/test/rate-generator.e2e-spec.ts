import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { benchModule, runScript } from './child-node';

/**
 * The fixed-rate generator of the socket scenarios (bench/lib/http-load.mjs `rateLoad`) is one
 * long-lived process: a fresh Node process per step ran its first seconds uncompiled, and its own
 * delays showed as the server's latency. Two runs must come from the same process over the same
 * connections, each stamping its events with their send time, and report only their own counts.
 */
interface RateResult {
  sent: number;
  accepted: number;
  statuses: Record<string, number>;
  loadgenCpu: number;
  saturated: boolean;
}

describe('the long-lived fixed-rate generator (rateLoad)', () => {
  let server: Server;
  let url: string;
  let arrivals: Array<{ port: number; path: string; t: number }>;

  beforeAll(async () => {
    arrivals = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const parsed = JSON.parse(body) as { data: { t: number } };
        arrivals.push({ port: req.socket.remotePort ?? 0, path: req.url ?? '', t: parsed.data.t });
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('runs every load from one process over connections kept open, each with its own counts', async () => {
    // Two runs in one bench process, then stopAll (which must stop the generator, or the script hangs).
    const script = `
      const { rateLoad } = await import(${benchModule('http-load.mjs')});
      const { stopAll } = await import(${benchModule('procs.mjs')});
      const spec = { base: process.argv[1], kind: 'targeted', users: ['u1', 'u 2'], rate: 200, durationS: 0.5, connections: 4 };
      const first = await rateLoad(spec);
      const second = await rateLoad(spec);
      await stopAll();
      process.stdout.write(JSON.stringify([first, second]));
    `;
    const ports: number[][] = [];
    const runs: RateResult[] = [];
    runs.push(...(await runScript<RateResult[]>(script, [url], 60_000)));

    expect(runs).toHaveLength(2);
    for (const run of runs) {
      expect(run.sent).toBe(100);
      expect(run.accepted).toBe(100);
      expect(run.statuses).toEqual({ 202: 100 });
      expect(run.loadgenCpu).toBeGreaterThan(0);
      expect(typeof run.saturated).toBe('boolean');
    }
    expect(arrivals).toHaveLength(200);
    // Users dealt round-robin, the id encoded in the path.
    expect(arrivals.filter((a) => a.path === '/events/u%202/downstream')).toHaveLength(100);
    // Send times on one monotonic clock, in order of sending within each run.
    const [first, second] = [arrivals.slice(0, 100), arrivals.slice(100)];
    expect(Math.max(...first.map((a) => a.t))).toBeLessThan(Math.min(...second.map((a) => a.t)));
    // The second run reused the first run's connections: same process, pool kept open.
    ports.push([...new Set(first.map((a) => a.port))], [...new Set(second.map((a) => a.port))]);
    expect(ports[0].length).toBeGreaterThan(0);
    for (const port of ports[1]) {
      expect(ports[0]).toContain(port);
    }
  });
});
