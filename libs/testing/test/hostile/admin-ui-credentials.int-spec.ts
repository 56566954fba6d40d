/* Malformed credentials on the Admin UI namespace (found by issue 9's fuzzing): @socket.io/admin-ui
 * hands auth.password to bcryptjs.compare, which rejects a missing or non-string password; unhandled,
 * that ended the gateway. The gateway now refuses such handshakes before the Admin UI's check. */
import { serviceEnv, spawnService, testNamespace, TEST_SECRETS, type ServiceProcess } from '@app/testing';
import { handshakeOutcome } from '../reliability/support';

describe('the Admin UI namespace and malformed credentials', () => {
  const ns = testNamespace();
  let gateway: ServiceProcess;

  beforeAll(async () => {
    gateway = await spawnService('event-gateway', serviceEnv('event-gateway', ns), { waitReady: true });
  });

  afterAll(async () => {
    await gateway?.stop('SIGKILL');
  });

  it.each([
    { username: TEST_SECRETS.adminUsername },
    { username: TEST_SECRETS.adminUsername, password: null },
    { username: ['admin'], password: TEST_SECRETS.adminPassword },
    { username: TEST_SECRETS.adminUsername, password: 42 },
    { username: TEST_SECRETS.adminUsername, password: { $ne: null } },
  ])('refuses %j with "invalid credentials" and stays up', async (auth) => {
    expect(await handshakeOutcome(gateway.url, auth, 10_000, '/admin')).toBe('invalid credentials');
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
  });
});
