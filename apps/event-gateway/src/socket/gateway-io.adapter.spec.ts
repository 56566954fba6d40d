import { originAllowed } from './gateway-io.adapter';

describe('originAllowed', () => {
  it('allows clients without an Origin header (not browsers)', () => {
    expect(originAllowed(undefined, 'gw:3001', [])).toBe(true);
  });

  it('allows the same origin, as Host or X-Forwarded-Host names it', () => {
    expect(originAllowed('http://localhost:8080', 'localhost:8080', [])).toBe(true);
    expect(originAllowed('https://portal.example', 'portal.example', [])).toBe(true);
  });

  it('allows configured origins and everything with *', () => {
    expect(originAllowed('https://admin.socket.io', 'gw:3001', ['https://admin.socket.io'])).toBe(true);
    expect(originAllowed('https://evil.example', 'gw:3001', '*')).toBe(true);
  });

  it('refuses other origins and garbage', () => {
    expect(originAllowed('https://evil.example', 'gw:3001', ['https://admin.socket.io'])).toBe(false);
    expect(originAllowed('http://localhost:8081', 'localhost:8080', [])).toBe(false);
    expect(originAllowed('not a url', 'gw:3001', [])).toBe(false);
    expect(originAllowed('https://evil.example', undefined, [])).toBe(false);
  });
});
