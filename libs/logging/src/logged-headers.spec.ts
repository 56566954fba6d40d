import { loggedHeaders, REDACTED_HEADERS, withoutQuery } from './logging.module';

describe('loggedHeaders', () => {
  it('keeps the allow-listed headers, URLs without their query', () => {
    expect(
      loggedHeaders({
        host: 'api.example',
        'user-agent': 'curl/8',
        'x-original-url': 'https://portal/todos/7?access_token=secret',
        referer: 'https://portal/?sso=secret',
        'x-custom': 'dropped',
      }),
    ).toEqual({
      host: 'api.example',
      'user-agent': 'curl/8',
      'x-original-url': 'https://portal/todos/7',
      referer: 'https://portal/',
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
