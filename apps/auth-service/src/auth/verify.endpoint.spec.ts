import { extractToken } from './verify.endpoint';

describe('extractToken', () => {
  it('takes the token of a Bearer header, whatever the scheme case', () => {
    expect(extractToken('Bearer abc.def.ghi', undefined)).toBe('abc.def.ghi');
    expect(extractToken('bearer abc.def.ghi', undefined)).toBe('abc.def.ghi');
  });

  it('prefers the Authorization header over the cookie', () => {
    expect(extractToken('Bearer from-header', 'access_token=from-cookie')).toBe('from-header');
  });

  it('falls back to the access_token cookie, also behind a non-Bearer Authorization header', () => {
    expect(extractToken(undefined, 'a=1; access_token=from-cookie; b=2')).toBe('from-cookie');
    expect(extractToken('Basic cG9ydGFsOng=', 'access_token=from-cookie')).toBe('from-cookie');
  });

  it('reports no token when there is neither header nor cookie', () => {
    expect(extractToken(undefined, undefined)).toBeUndefined();
    expect(extractToken(undefined, 'theme=dark')).toBeUndefined();
    expect(extractToken('Basic cG9ydGFsOng=', undefined)).toBeUndefined();
  });

  it('turns a Bearer header that does not parse into a token that will fail, not into a missing one', () => {
    expect(extractToken('Bearer', undefined)).toBe('Bearer');
    expect(extractToken('Bearer a b', undefined)).toBe('Bearer a b');
    expect(extractToken(`Bearer ${'x'.repeat(20_000)} y`, undefined)!.length).toBeLessThanOrEqual(8_193);
  });
});
