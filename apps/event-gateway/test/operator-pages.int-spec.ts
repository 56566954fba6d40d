import { chromium, type Browser } from 'playwright-core';
import { io } from 'socket.io-client';
import { RedisService } from '@app/redis';
import { TEST_SECRETS, testNamespace, type TestApp, waitFor } from '@app/testing';
import { closeClients, connectClient, postEvent, startGateway, tokenFor } from './gateway-test-kit';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const basic = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

describe('event-gateway operator pages: Admin UI and browser test client', () => {
  const ns = testNamespace();
  let gateway: TestApp;

  beforeAll(async () => {
    gateway = await startGateway(ns);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  describe('Socket.IO Admin UI', () => {
    it.each([
      ['no credentials', undefined],
      ['a wrong password', basic(TEST_SECRETS.adminUsername, 'wrong-password')],
      ['a wrong user name', basic('root', TEST_SECRETS.adminPassword)],
      ['a malformed header', 'Basic !!!'],
    ])('refuses the UI files with %s: 401 and a Basic challenge', async (_label, authorization) => {
      const response = await fetch(`${gateway.url}/admin/`, {
        headers: authorization ? { authorization } : {},
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(await response.text()).not.toContain('Socket.IO Admin UI');
    });

    it('serves the UI files with the configured credentials, and nothing outside them', async () => {
      const authorization = basic(TEST_SECRETS.adminUsername, TEST_SECRETS.adminPassword);
      const index = await fetch(`${gateway.url}/admin/`, { headers: { authorization } });
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toContain('text/html');
      const html = await index.text();
      expect(html).toContain('Socket.IO Admin UI');
      const script = /src="(js\/app\.[^"]+\.js)"/.exec(html)![1];
      const asset = await fetch(`${gateway.url}/admin/${script}`, { headers: { authorization } });
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toContain('javascript');
      const traversal = await fetch(`${gateway.url}/admin/..%2F..%2Fpackage.json`, {
        headers: { authorization },
      });
      expect(traversal.status).toBe(404);
    });

    it('refuses the admin namespace with a wrong password and accepts the right one', async () => {
      const connectAdmin = (password: string): Promise<string> =>
        new Promise((resolve) => {
          const socket = io(`${gateway.url}/admin`, {
            auth: { username: TEST_SECRETS.adminUsername, password },
            transports: ['websocket'],
            reconnection: false,
            forceNew: true,
          });
          socket.once('connect', () => {
            socket.close();
            resolve('connected');
          });
          socket.once('connect_error', (error: Error) => {
            socket.close();
            resolve(`refused: ${error.message}`);
          });
        });
      expect(await connectAdmin('wrong-password')).toMatch(/^refused/);
      expect(await connectAdmin(TEST_SECRETS.adminPassword)).toBe('connected');
    });

    it('reports the packets and bytes of a delivery and its acknowledgement in its statistics', async () => {
      const admin = io(`${gateway.url}/admin`, {
        auth: { username: TEST_SECRETS.adminUsername, password: TEST_SECRETS.adminPassword },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      });
      const totals = new Map<string, number>();
      admin.on('server_stats', (stats: { aggregatedEvents: Array<{ type: string; count: number }> }) => {
        for (const { type, count } of stats.aggregatedEvents) {
          totals.set(type, (totals.get(type) ?? 0) + count);
        }
      });
      try {
        await new Promise<void>((resolve) => admin.once('connect', () => resolve()));
        const { token } = await tokenFor(gateway, 'admin-stats-user');
        const client = await connectClient(gateway.url, token);
        const posted = await postEvent(gateway.url, 'admin-stats-user', {
          type: 'stats',
          data: { pad: 'x'.repeat(2_000) },
        });
        expect(posted.status).toBe(202);
        await waitFor(() => client.events.length === 1);
        // Collected every 2 s: the event's own packet carries more than 2,000 bytes out, and its
        // acknowledgement is a packet in.
        await waitFor(() => (totals.get('bytesOut') ?? 0) > 2_000 && (totals.get('packetsIn') ?? 0) >= 1, {
          description: 'Admin UI statistics with the delivery',
        });
        expect(totals.get('packetsOut')).toBeGreaterThanOrEqual(1);
        expect(totals.get('rawConnection')).toBeGreaterThanOrEqual(1);
      } finally {
        admin.close();
        closeClients();
      }
    });
  });

  describe('browser test client in headless Chromium', () => {
    let browser: Browser;

    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    });

    afterAll(async () => {
      await browser?.close();
    });

    it('shows an event posted for the user, acknowledges it, and the inbox is empty afterwards', async () => {
      const { token } = await tokenFor(gateway, 'browser1');
      const page = await browser.newPage();
      try {
        await page.goto(`${gateway.url}/client?token=${encodeURIComponent(token)}`);
        await page.locator('#status', { hasText: 'connected' }).waitFor({ timeout: 10_000 });
        expect(await page.textContent('#status')).toBe('connected');

        await postEvent(gateway.url, 'browser1', {
          type: 'todo.completed',
          data: { todoid: 87, userid: 'browser1' },
          id: 'browser-event-1',
        });
        const item = page.locator('#events li[data-event-id="browser-event-1"]');
        await item.waitFor({ timeout: 10_000 });
        expect(await item.getAttribute('data-todoid')).toBe('87');
        expect(await item.getAttribute('data-acked')).toBe('false');
        const redis = gateway.app.get(RedisService);
        expect(await redis.client.zcard('inbox:browser1')).toBe(1);

        await item.locator('button.ack').click();
        await page
          .locator('#events li[data-event-id="browser-event-1"][data-acked="true"]')
          .waitFor({ timeout: 5_000 });
        await waitFor(async () => (await redis.client.zcard('inbox:browser1')) === 0, {
          description: 'the inbox to be empty after the ack',
        });
      } finally {
        await page.close();
      }
    });

    it('runs the self-hosted Admin UI, which connects to the gateway with the configured credentials', async () => {
      const context = await browser.newContext({
        httpCredentials: { username: TEST_SECRETS.adminUsername, password: TEST_SECRETS.adminPassword },
      });
      try {
        const page = await context.newPage();
        await page.goto(`${gateway.url}/admin/`);
        const dialog = page.locator('.v-dialog');
        await dialog.getByLabel('Server URL').fill(gateway.url);
        await dialog.getByLabel('Username').fill(TEST_SECRETS.adminUsername);
        await dialog.getByLabel('Password').fill(TEST_SECRETS.adminPassword);
        await dialog.locator('button[type=submit], button:has-text("Connect")').first().click();
        await page
          .getByText(/^\s*connected\s*$/i)
          .first()
          .waitFor({ timeout: 10_000 });
      } finally {
        await context.close();
      }
    });

    it('acknowledges automatically with autoAck=1 and reports a refused token as unauthorized', async () => {
      const { token } = await tokenFor(gateway, 'browser2');
      await postEvent(gateway.url, 'browser2', { data: { todoid: 9 }, id: 'waiting-for-browser' });
      const page = await browser.newPage();
      try {
        await page.goto(`${gateway.url}/client?autoAck=1&token=${encodeURIComponent(token)}`);
        await page
          .locator('#events li[data-event-id="waiting-for-browser"][data-acked="true"]')
          .waitFor({ timeout: 10_000 });
        await waitFor(
          async () => (await gateway.app.get(RedisService).client.zcard('inbox:browser2')) === 0,
          { description: 'the auto-ack' },
        );
        await page.goto(`${gateway.url}/client?token=not-a-token`);
        await page.locator('#status', { hasText: 'unauthorized' }).waitFor({ timeout: 10_000 });
      } finally {
        await page.close();
      }
    });
  });
});
