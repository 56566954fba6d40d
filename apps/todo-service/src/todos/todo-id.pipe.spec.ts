import { parseTodoId, TodoIdPipe } from './todo-id.pipe';

describe('parseTodoId', () => {
  it('accepts positive safe integers in plain decimal', () => {
    expect(parseTodoId('1')).toBe(1);
    expect(parseTodoId('87')).toBe(87);
    expect(parseTodoId(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    '0',
    '-1',
    '1.5',
    '1e3',
    '0x10',
    '01',
    ' 1',
    'abc',
    '',
    '9007199254740993',
    '99999999999999999999',
  ])('rejects %j', (raw) => {
    expect(parseTodoId(raw)).toBeUndefined();
  });

  it('makes the pipe throw a 400 validation error naming todoid', () => {
    expect(() => new TodoIdPipe().transform('x')).toThrow(
      expect.objectContaining({ status: 400, errors: [expect.objectContaining({ field: 'todoid' })] }),
    );
  });
});
