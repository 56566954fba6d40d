import { ValidationError } from '@app/errors';
import { jsonDepth, PostEventBodyPipe } from './post-event-body.pipe';

describe('PostEventBodyPipe', () => {
  const pipe = new PostEventBodyPipe();

  it('passes data through untouched and keeps only the given optional fields', () => {
    const data = { nested: [1, { a: null }], 'bp-test': true };
    expect(pipe.transform({ data })).toEqual({ data });
    expect(pipe.transform({ data, id: 'x-1', type: 'todo.completed' })).toEqual({
      data,
      id: 'x-1',
      type: 'todo.completed',
    });
    expect(pipe.transform({ data: null })).toEqual({ data: null });
  });

  it.each([
    ['not an object', 'x'],
    ['an array', [{ data: 1 }]],
    ['null', null],
    ['missing data', { type: 'x' }],
    ['an unknown field', { data: 1, other: 2 }],
    ['a bad id', { data: 1, id: 'a b' }],
    ['a long type', { data: 1, type: 't'.repeat(129) }],
    ['a type with DEL', { data: 1, type: 'a\u007fb' }],
  ])('refuses %s with a ValidationError', (_label, body) => {
    expect(() => pipe.transform(body)).toThrow(ValidationError);
  });

  it('measures depth without recursion, stopping early past the limit', () => {
    expect(jsonDepth(1, 5)).toBe(0);
    expect(jsonDepth({ a: [{}] }, 5)).toBe(3);
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i += 1) {
      deep = [deep];
    }
    expect(jsonDepth(deep, 64)).toBe(65);
  });
});
