import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, request as httpRequest, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, REPO_ROOT, serviceEnv, startTestApp, type TestApp, testNamespace, waitFor } from '@app/testing';
import { authService } from '../src/service';

const NGINX = '/usr/sbin/nginx';
const PORTAL = `Basic ${Buffer.from('portal:portal-secret').toString('base64')}`;

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP server standing in for an upstream: records and echoes what reached it. */
async function echoServer(name: string): Promise<{ server: Server; address: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(entry);
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
      res.end(JSON.stringify(entry));
    });
  });
  server.on('upgrade', (req, socket) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' });
    socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** Runs scripts/lib/ingress.mjs (plain ESM) the way `npm start` does, and returns the nginx.conf path. */
function renderIngress(options: { port: number; todo: string; gateway: string; auth: string; dir: string }): string {
  const script = `import { renderIngress } from ${JSON.stringify(join(REPO_ROOT, 'scripts', 'lib', 'ingress.mjs'))};
process.stdout.write(renderIngress(${JSON.stringify(options)}));`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
}

describe('the local ingress (real nginx) in front of the auth-service', () => {
  const ns = testNamespace();
  let auth: TestApp;
  let todo: Awaited<ReturnType<typeof echoServer>>;
  let gateway: Awaited<ReturnType<typeof echoServer>>;
  let nginx: ChildProcess;
  let dir: string;
  let ingress: string;

  beforeAll(async () => {
    auth = await startTestApp(authService, serviceEnv('auth-service', ns));
    todo = await echoServer('todo');
    gateway = await echoServer('gateway');
    dir = mkdtempSync(join(tmpdir(), 'downstream-ingress-'));
    const port = await freePort();
    const config = renderIngress({ port, todo: todo.address, gateway: gateway.address, auth: `127.0.0.1:${auth.port}`, dir });
    const proc = spawn(NGINX, ['-c', config, '-p', dir, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx = proc;
    let output = '';
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    ingress = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        if (proc.exitCode !== null) {
          throw new Error(`nginx exited with ${proc.exitCode}: ${output}`);
        }
        return (await fetch(`${ingress}/nothing-here`)).status === 404;
      },
      { timeoutMs: 10_000, description: 'nginx to listen' },
    );
  });

  afterAll(async () => {
    if (nginx && nginx.exitCode === null && nginx.signalCode === null) {
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    await auth?.close();
    await new Promise((resolve) => todo?.server.close(resolve));
    await new Promise((resolve) => gateway?.server.close(resolve));
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  async function issue(sub = 'test001', roles = ['editor']): Promise<{ access_token: string; jti: string }> {
    // Through the ingress: /auth/ routes to the auth-service.
    const response = await fetch(`${ingress}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: PORTAL },
      body: JSON.stringify({ sub, roles }),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as { access_token: string; jti: string };
  }

  it('passes a request with a good token to the todo upstream with X-User-Id and X-User-Roles, overriding spoofed ones', async () => {
    const issued = await issue();
    const response = await fetch(`${ingress}/todos?userid=test001`, {
      method: 'POST',
      headers: { authorization: `Bearer ${issued.access_token}`, 'content-type': 'application/json', 'x-user-id': 'admin', 'x-user-roles': 'admin' },
      body: JSON.stringify({ userid: 'test001', content: { title: 'through the ingress' } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-upstream')).toBe('todo');
    const seen = (await response.json()) as Seen;
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/todos?userid=test001');
    expect(seen.headers['x-user-id']).toBe('test001');
    expect(seen.headers['x-user-roles']).toBe('editor');
    expect(seen.headers['x-token-id']).toBe(issued.jti);
    expect(JSON.parse(seen.body)).toEqual({ userid: 'test001', content: { title: 'through the ingress' } });
  });

  it('accepts the token from the access_token cookie', async () => {
    const issued = await issue('cookie-user', []);
    const response = await fetch(`${ingress}/todos/7`, { headers: { cookie: `access_token=${issued.access_token}` } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Seen).headers['x-user-id']).toBe('cookie-user');
  });

  it('answers 401 with WWW-Authenticate and never reaches the upstream without a token', async () => {
    const before = todo.seen.length;
    const response = await fetch(`${ingress}/todos`, { headers: { 'x-user-id': 'admin' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="downstream"$/);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 401, title: 'Unauthorized' });
    expect(todo.seen.length).toBe(before);
  });

  it('answers 401 with error="invalid_token" for a forged token', async () => {
    const issued = await issue();
    const [header, , signature] = issued.access_token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'admin' })).toString('base64url')}.${signature}`;
    const response = await fetch(`${ingress}/todos`, { headers: { authorization: `Bearer ${forged}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('answers 401 within 1 s once the token is revoked', async () => {
    const issued = await issue('revoked-user');
    const bearer = { authorization: `Bearer ${issued.access_token}` };
    expect((await fetch(`${ingress}/todos`, { headers: bearer })).status).toBe(200);
    const revoked = await fetch(`${ingress}/auth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: PORTAL },
      body: JSON.stringify({ jti: issued.jti }),
    });
    expect(revoked.status).toBe(200);
    await waitFor(async () => (await fetch(`${ingress}/todos`, { headers: bearer })).status === 401, {
      timeoutMs: 1_000,
      intervalMs: 10,
      description: 'the ingress to refuse the revoked token',
    });
  });

  it('does not route the internal Event API: /events/x/downstream is 404 at the ingress', async () => {
    const issued = await issue();
    const before = gateway.seen.length + todo.seen.length;
    for (const path of ['/events/x/downstream', '/events/downstream', '/clients']) {
      const response = await fetch(`${ingress}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${issued.access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ data: {} }),
      });
      expect(response.status).toBe(404);
    }
    expect(gateway.seen.length + todo.seen.length).toBe(before);
  });

  it('routes /socket.io/ to the gateway without an auth subrequest, upgrading websockets', async () => {
    const polling = await fetch(`${ingress}/socket.io/?EIO=4&transport=polling`);
    expect(polling.status).toBe(200);
    expect(polling.headers.get('x-upstream')).toBe('gateway');

    const url = new URL(`${ingress}/socket.io/?EIO=4&transport=websocket`);
    const upgraded = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('error', reject);
      req.end();
    });
    expect(upgraded).toBe(101);
    const last = gateway.seen[gateway.seen.length - 1];
    expect(last.headers.upgrade).toBe('websocket');
    expect(String(last.headers.connection).toLowerCase()).toBe('upgrade');
    expect(last.headers['x-user-id']).toBeUndefined();
  });

  it('routes the test client page and the Admin UI to the gateway', async () => {
    expect((await fetch(`${ingress}/client`)).headers.get('x-upstream')).toBe('gateway');
    expect((await fetch(`${ingress}/admin/`)).headers.get('x-upstream')).toBe('gateway');
  });

  it('configures the websocket route with 3600 s timeouts and 8m bodies', () => {
    const conf = readFileSync(join(dir, 'ingress.conf'), 'utf8');
    const socketIo = conf.slice(conf.indexOf('location /socket.io/'), conf.indexOf('}', conf.indexOf('location /socket.io/')));
    expect(socketIo).toContain('proxy_read_timeout 3600s;');
    expect(socketIo).toContain('proxy_send_timeout 3600s;');
    expect(socketIo).toContain('client_max_body_size 8m;');
    expect(socketIo).not.toContain('auth_request');
  });
});
