import { ConfigError } from '@app/config';
import { loadGatewayConfig } from './gateway.config';

const base = {
  JWT_SECRET: 'unit-test-secret-0123456789abcdef0123456789',
  ADMIN_UI_USERNAME: 'admin',
  ADMIN_UI_PASSWORD: 'admin-password',
};

describe('loadGatewayConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadGatewayConfig(base);
    expect(config.port).toBe(3001);
    expect(config.gateway).toEqual({
      corsOrigins: [],
      retentionSeconds: 86_400,
      inboxMax: 1_000,
      ackTimeoutMs: 10_000,
      leaseSeconds: 15,
      maxHttpBufferSize: 1_000_000,
    });
    expect(config.adminUi).toEqual({ username: 'admin', password: 'admin-password', readonly: true });
    expect(config.jwt).toMatchObject({
      algorithm: 'HS256',
      issuer: 'downstream-auth',
      audience: 'downstream',
    });
  });

  it('reads the gateway variables, a CORS list, and makes the Admin UI writable in development only', () => {
    const config = loadGatewayConfig({
      ...base,
      NODE_ENV: 'development',
      CORS_ORIGINS: 'https://portal.example,http://localhost:8080',
      EVENT_RETENTION_SECONDS: '60',
      EVENT_INBOX_MAX: '5',
      ACK_TIMEOUT_MS: '500',
      CLIENT_LEASE_SECONDS: '2',
      MAX_HTTP_BUFFER_SIZE: '2048',
    });
    expect(config.gateway).toEqual({
      corsOrigins: ['https://portal.example', 'http://localhost:8080'],
      retentionSeconds: 60,
      inboxMax: 5,
      ackTimeoutMs: 500,
      leaseSeconds: 2,
      maxHttpBufferSize: 2048,
    });
    expect(config.adminUi.readonly).toBe(false);
    expect(loadGatewayConfig({ ...base, CORS_ORIGINS: '*' }).gateway.corsOrigins).toBe('*');
  });

  it.each([
    [{ ADMIN_UI_USERNAME: undefined }, 'ADMIN_UI_USERNAME'],
    [{ ADMIN_UI_PASSWORD: undefined }, 'ADMIN_UI_PASSWORD'],
    [{ ADMIN_UI_PASSWORD: 'short' }, 'ADMIN_UI_PASSWORD'],
    [{ JWT_SECRET: undefined }, 'JWT_SECRET'],
    [{ JWT_SECRET: 'too-short' }, 'JWT_SECRET'],
    [{ CORS_ORIGINS: 'portal.example' }, 'CORS_ORIGINS'],
    [{ EVENT_RETENTION_SECONDS: '0' }, 'EVENT_RETENTION_SECONDS'],
    [{ EVENT_INBOX_MAX: 'many' }, 'EVENT_INBOX_MAX'],
    [{ ACK_TIMEOUT_MS: '10' }, 'ACK_TIMEOUT_MS'],
    [{ CLIENT_LEASE_SECONDS: '0' }, 'CLIENT_LEASE_SECONDS'],
    [{ MAX_HTTP_BUFFER_SIZE: '1e99' }, 'MAX_HTTP_BUFFER_SIZE'],
  ])('refuses %j naming %s, without echoing the value', (overrides, variable) => {
    let error: unknown;
    try {
      loadGatewayConfig({ ...base, ...overrides });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(variable);
    for (const value of Object.values(overrides)) {
      if (value && value.length > 3) {
        expect((error as ConfigError).message).not.toContain(value);
      }
    }
  });
});
