import type { TestNamespace } from './namespace';
import type { ServiceName } from './apps';

/** Development-only secrets the tests use; never used outside tests and the local stack. */
export const TEST_SECRETS = {
  jwtSecret: 'test-only-jwt-secret-0123456789abcdef0123456789',
  authClients: 'portal:portal-secret,ops:ops-secret',
  adminUsername: 'admin',
  adminPassword: 'test-admin-password',
} as const;

/** The environment a service needs to boot against the test servers, isolated by `ns`. */
export function serviceEnv(
  name: ServiceName,
  ns: TestNamespace,
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  const common = {
    REDIS_URL: ns.redisUrl,
    REDIS_KEY_PREFIX: ns.redisKeyPrefix,
    JWT_SECRET: TEST_SECRETS.jwtSecret,
    JWT_ISSUER: 'downstream-auth',
    JWT_AUDIENCE: 'downstream',
  };
  const perService: Record<ServiceName, Record<string, string>> = {
    'todo-service': {
      MONGODB_URI: ns.mongoUri,
      EVENT_API_URL: 'http://127.0.0.1:9',
      EVENT_API_TIMEOUT_MS: '2000',
      MONGODB_TIMEOUT_MS: '2000',
      OUTBOX_POLL_MS: '100',
      OUTBOX_IDLE_POLL_MS: '1000',
      OUTBOX_BASE_BACKOFF_MS: '100',
      OUTBOX_MAX_BACKOFF_MS: '1000',
      RECEIPTS_CLAIM_IDLE_MS: '2000',
    },
    'event-gateway': { ADMIN_UI_USERNAME: TEST_SECRETS.adminUsername, ADMIN_UI_PASSWORD: TEST_SECRETS.adminPassword },
    'auth-service': { AUTH_CLIENTS: TEST_SECRETS.authClients },
  };
  return { ...common, ...perService[name], ...overrides };
}
