/* The seed's data flow, steps 1–6, through the local ingress exactly as `npm start` runs it:
 * a real browser (Debian Chromium via playwright-core) on the gateway's test client page, a Node
 * socket.io-client, nginx auth_request in front of the todo-service. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import type { DownstreamEvent } from '@app/contracts';
import { freePort, REPO_ROOT, waitFor } from '@app/testing';

const ARTIFACTS = join(REPO_ROOT, 'reports', 'artifacts');
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface Stack {
  child: ChildProcess;
  output: () => string;
  ingress: string;
  gateway: string;
  dataDir: string;
}

async function startStack(): Promise<Stack> {
  const ports = {
    INGRESS_PORT: await freePort(),
    TODO_PORT: await freePort(),
    GATEWAY_PORT: await freePort(),
    AUTH_PORT: await freePort(),
    MONGO_PORT: await freePort(),
    REDIS_PORT: await freePort(),
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'downstream-stack-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'warn',
    DOWNSTREAM_DATA_DIR: dataDir,
  };
  for (const [key, value] of Object.entries(ports)) {
    env[key] = String(value);
  }
  if (process.env.FERRETDB_BIN) {
    env.FERRETDB_BIN = process.env.FERRETDB_BIN;
  }
  const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'start.mjs')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(
    () => {
      if (child.exitCode !== null) {
        throw new Error(`npm start exited with ${child.exitCode}:\n${output.slice(-4_000)}`);
      }
      return output.includes('Downstream is running.');
    },
    { timeoutMs: 180_000, intervalMs: 200, description: 'the local stack to print its URLs' },
  );
  return {
    child,
    output: () => output,
    ingress: `http://127.0.0.1:${ports.INGRESS_PORT}`,
    gateway: `http://127.0.0.1:${ports.GATEWAY_PORT}`,
    dataDir,
  };
}

/** Every process below `pid` (from /proc), so the test can prove none outlives the stack. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // the process ended meanwhile
    }
  }
  const result: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      result.push(child);
      queue.push(child);
    }
  }
  return result;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function token(stack: Stack, sub: string): Promise<string> {
  const response = await fetch(`${stack.ingress}/auth/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from('portal:portal-secret').toString('base64')}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ sub }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function api(
  stack: Stack,
  bearer: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const response = await fetch(`${stack.ingress}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${bearer}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

async function openClientPage(browser: Browser, stack: Stack, bearer: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${stack.ingress}/client?token=${encodeURIComponent(bearer)}`);
  // A selector wait runs in Playwright's own world: the page's CSP (no 'unsafe-eval') does not apply to it.
  await page.waitForSelector('#status[data-state="connected"]', { timeout: 20_000 });
  return page;
}

describe('the whole flow through the local ingress (npm start)', () => {
  let stack: Stack;
  let browser: Browser;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startStack();
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  }, 240_000);

  afterAll(async () => {
    sockets.forEach((socket) => socket.disconnect());
    await browser?.close();
    if (stack && stack.child.exitCode === null) {
      stack.child.kill('SIGKILL');
    }
    if (stack) {
      rmSync(stack.dataDir, { recursive: true, force: true });
    }
  });

  it('refuses /todos without a token at the ingress, and does not route /events', async () => {
    const anonymous = await fetch(`${stack.ingress}/todos`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const events = await fetch(`${stack.ingress}/events/test001/downstream`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ data: { sneaky: true } }),
    });
    expect(events.status).toBe(404);
    expect((await fetch(`${stack.ingress}/clients`)).status).toBe(404);
  });

  it('pushes a completed todo to exactly its user, in the browser, who acknowledges it', async () => {
    const [tokenA, tokenB] = [await token(stack, 'test001'), await token(stack, 'test002')];
    const page = await openClientPage(browser, stack, tokenA);
    try {
      const received: DownstreamEvent[] = [];
      const other = io(stack.ingress, {
        auth: { token: tokenB },
        transports: ['websocket'],
        reconnection: false,
      });
      sockets.push(other);
      other.on('downstream', (event: DownstreamEvent, ack?: () => void) => {
        received.push(event);
        ack?.();
      });
      await waitFor(() => other.connected, { description: 'test002 to connect through the ingress' });

      const created = await api(stack, tokenA, 'POST', '/todos', {
        userid: 'test001',
        content: { title: 'e2e', fields: { qty: 1 } },
      });
      expect(created.status).toBe(201);
      const todoid = created.json.todoid as number;
      const completed = await api(stack, tokenA, 'POST', `/todos/${todoid}/complete/downstream`);
      expect(completed.status).toBe(200);
      expect(['delivered', 'stored']).toContain(completed.json.event.status);

      const item = page.locator(`#events li[data-todoid="${todoid}"]`);
      await item.waitFor({ timeout: 20_000 });
      expect(await item.getAttribute('data-event-id')).toBe(completed.json.event.id);
      await item.locator('button.ack').click();
      await page.waitForSelector(`#events li[data-todoid="${todoid}"][data-acked="true"]`, {
        timeout: 10_000,
      });
      await page.screenshot({ path: join(ARTIFACTS, 'test-client-after-event.png'), fullPage: true });

      // The internal portal sees the receipt.
      await waitFor(
        async () => (await api(stack, tokenA, 'GET', `/todos/${todoid}`)).json.downstream?.status === 'acked',
        {
          timeoutMs: 10_000,
          description: 'the todo to show the acknowledgement',
        },
      );

      // A broadcast reaches both; test002 got nothing before it.
      const broadcast = await fetch(`${stack.gateway}/events/downstream`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'notice', data: { text: 'to everyone' } }),
      });
      expect(broadcast.status).toBe(202);
      const broadcastId = ((await broadcast.json()) as { id: string }).id;
      await page.locator(`#events li[data-event-id="${broadcastId}"]`).waitFor({ timeout: 10_000 });
      await waitFor(() => received.length > 0, { description: 'test002 to get the broadcast' });
      expect(received.map((event) => event.id)).toEqual([broadcastId]);
    } finally {
      await page.close();
    }
  });

  it('shows an event completed while the user was offline when the page opens', async () => {
    const tokenA = await token(stack, 'test001');
    // The page of the previous test is closed; its socket leaves the registry when the gateway sees the close.
    await waitFor(async () => (await fetch(`${stack.gateway}/clients/test001`)).status === 404, {
      timeoutMs: 10_000,
      description: 'test001 to have no connected socket',
    });
    const created = await api(stack, tokenA, 'POST', '/todos', {
      userid: 'test001',
      content: { title: 'offline' },
    });
    const todoid = created.json.todoid as number;
    const completed = await api(stack, tokenA, 'POST', `/todos/${todoid}/complete/downstream`);
    expect(completed.json.event.status).toBe('stored');

    const page = await openClientPage(browser, stack, tokenA);
    try {
      const item = page.locator(`#events li[data-todoid="${todoid}"]`);
      await item.waitFor({ timeout: 20_000 });
      expect(await item.getAttribute('data-event-id')).toBe(completed.json.event.id);
    } finally {
      await page.close();
    }
  });

  it('stops every process it started on SIGTERM', async () => {
    const pids = descendants(stack.child.pid!);
    expect(pids.length).toBeGreaterThanOrEqual(6);
    const exited = new Promise<number | null>((resolve) => stack.child.once('exit', (code) => resolve(code)));
    stack.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await waitFor(() => pids.every((pid) => !alive(pid)), {
      timeoutMs: 20_000,
      description: 'every child process to exit',
    });
  }, 60_000);
});
