import { parseBasicAuth, sameSecret, secretDigest } from './basic-auth';

const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

describe('parseBasicAuth', () => {
  it('splits the user id from the password at the first colon, whatever the scheme case', () => {
    expect(parseBasicAuth(basic('portal:s3cr:et'))).toEqual({ id: 'portal', secret: 's3cr:et' });
    expect(parseBasicAuth(`basic ${Buffer.from('a:b').toString('base64')}`)).toEqual({
      id: 'a',
      secret: 'b',
    });
    expect(parseBasicAuth(basic('portal:'))).toEqual({ id: 'portal', secret: '' });
  });

  it('refuses what is not a Basic credential with a user id', () => {
    for (const header of [
      undefined,
      '',
      'Bearer x',
      'Basic',
      'Basic !!!',
      basic('no-colon'),
      basic(':no-user'),
      `Basic ${'A'.repeat(2_000)}`,
    ]) {
      expect(parseBasicAuth(header)).toBeUndefined();
    }
  });
});

describe('sameSecret', () => {
  it('compares a secret with a digest', () => {
    const expected = secretDigest('portal-secret');
    expect(sameSecret('portal-secret', expected)).toBe(true);
    expect(sameSecret('portal-secreT', expected)).toBe(false);
    expect(sameSecret('', expected)).toBe(false);
    expect(sameSecret('x'.repeat(10_000), expected)).toBe(false);
  });
});
