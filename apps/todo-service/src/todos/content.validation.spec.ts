import { validateContent } from './content.validation';

function nest(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < levels; i += 1) {
    value = { n: value };
  }
  return value;
}

describe('validateContent', () => {
  it('accepts any JSON object of storable keys: nested objects, arrays, nulls, dashes', () => {
    expect(
      validateContent({
        title: 't',
        fields: { qty: 0, 'bp-test': [1, null, { x: 'y' }] },
        empty: {},
        list: [],
      }),
    ).toEqual([]);
  });

  it('rejects anything but a plain object', () => {
    for (const value of [null, [], 'text', 5, true, undefined]) {
      expect(validateContent(value)).toEqual([{ field: 'content', message: 'must be a JSON object' }]);
    }
  });

  it('rejects a key starting with $ at any depth and names its path', () => {
    expect(validateContent({ $where: '1' })).toEqual([
      { field: 'content["$where"]', message: "keys must not start with '$'" },
    ]);
    expect(validateContent({ a: { b: [0, { $gt: 1 }] } })).toEqual([
      { field: 'content.a.b[1]["$gt"]', message: "keys must not start with '$'" },
    ]);
  });

  it('rejects a key containing a dot at any depth', () => {
    expect(validateContent({ a: [{ 'x.y': 1 }] })).toEqual([
      { field: 'content.a[0]["x.y"]', message: "keys must not contain '.'" },
    ]);
  });

  it('allows a $ or a dot inside values and in the middle of keys', () => {
    expect(validateContent({ price: '$5.00', a$b: 1 })).toEqual([]);
  });

  it('accepts depth 32 and rejects depth 33, counting arrays as levels', () => {
    expect(validateContent(nest(32))).toEqual([]);
    expect(validateContent(nest(33))[0].message).toBe('nests deeper than 32 levels');
    let array: unknown = [];
    for (let i = 0; i < 32; i += 1) {
      array = [array];
    }
    expect(validateContent({ a: array })[0].message).toMatch(/deeper/);
  });

  it('walks a 200 000-level structure without overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i += 1) {
      deep = { n: deep };
    }
    expect(validateContent(deep)).toHaveLength(1);
  });
});
