import helmet from 'helmet';
import { HELMET_OPTIONS, SECURITY_HEADERS, securityHeaders } from './security-headers';

describe('securityHeaders', () => {
  it("holds exactly what helmet's middleware sets on a response", () => {
    const set = new Map<string, string>();
    const response = {
      setHeader: (name: string, value: string) => set.set(name, value),
      removeHeader: (name: string) => set.delete(name),
    };
    helmet(HELMET_OPTIONS)({} as never, response as never, () => undefined);
    expect(SECURITY_HEADERS).toEqual(Object.fromEntries(set));
    expect(Object.keys(SECURITY_HEADERS).length).toBeGreaterThanOrEqual(10);
  });

  it('carries the services’ Content-Security-Policy and HSTS', () => {
    expect(SECURITY_HEADERS['Content-Security-Policy']).toContain("default-src 'self'");
    expect(SECURITY_HEADERS['Content-Security-Policy']).toContain("connect-src 'self' ws: wss:");
    expect(SECURITY_HEADERS['Strict-Transport-Security']).toMatch(/max-age=\d+/);
    expect(SECURITY_HEADERS['X-Content-Type-Options']).toBe('nosniff');
  });

  it('is frozen, and follows other options', () => {
    expect(Object.isFrozen(SECURITY_HEADERS)).toBe(true);
    expect(securityHeaders({ xFrameOptions: { action: 'deny' } })['X-Frame-Options']).toBe('DENY');
  });

  it('refuses options helmet refuses', () => {
    expect(() => securityHeaders({ contentSecurityPolicy: { directives: { 'bad;name': ["'self'"] } } })).toThrow();
  });
});
