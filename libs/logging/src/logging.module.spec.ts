import { isoTime, loggedHeaders, REDACTED_HEADERS, withoutQuery } from './logging.module';

describe('loggedHeaders', () => {
  it('keeps the allow-listed headers, URLs without their query', () => {
    expect(
      loggedHeaders({
        host: 'api.example',
        'user-agent': 'curl/8',
        'x-original-url': 'https://portal/todos/7?access_token=secret',
        referer: 'https://portal/?sso=secret',
        'x-user-id': 'user-verified-by-the-ingress',
        'x-custom': 'dropped',
      }),
    ).toEqual({
      host: 'api.example',
      'user-agent': 'curl/8',
      'x-original-url': 'https://portal/todos/7',
      referer: 'https://portal/',
      'x-user-id': 'user-verified-by-the-ingress',
    });
  });

  it('shows that a credential was sent, never its value', () => {
    const headers = Object.fromEntries(REDACTED_HEADERS.map((name) => [name, `value-of-${name}`]));
    const logged = loggedHeaders({ ...headers, host: 'h' });
    expect(JSON.stringify(logged)).not.toContain('value-of-');
    expect(logged).toEqual({
      host: 'h',
      ...Object.fromEntries(REDACTED_HEADERS.map((name) => [name, '[redacted]'])),
    });
  });

  it('leaves non-string URLs alone', () => {
    expect(withoutQuery(undefined)).toBeUndefined();
  });
});

describe('isoTime', () => {
  it('writes the same text as Date#toISOString, across seconds, milliseconds and dates', () => {
    const instants = [
      0, 1, 9, 10, 99, 100, 999, 1000, 1_764_185_963_123, 1_764_185_963_999, 1_764_185_964_000,
      1_764_185_964_007, 951_782_399_999, 951_782_400_000,
    ];
    for (const at of instants) {
      expect(isoTime(at)).toBe(`,"time":"${new Date(at).toISOString()}"`);
    }
  });
});
