import type { FieldProblem } from '@app/errors';

export const MAX_CONTENT_DEPTH = 32;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') {
    return `${parent}[${key}]`;
  }
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Checks a todo's `content` without recursion (a hostile body may nest 500 000 levels deep):
 * a plain object, no key starting with `$` or containing `.` at any depth, depth ≤ 32
 * (`content` itself is depth 1). Returns the problems found, the first few only.
 */
export function validateContent(
  content: unknown,
  field = 'content',
  maxDepth = MAX_CONTENT_DEPTH,
): FieldProblem[] {
  if (!isPlainObject(content)) {
    return [{ field, message: 'must be a JSON object' }];
  }
  const problems: FieldProblem[] = [];
  const stack: Array<{ value: unknown; path: string; depth: number }> = [
    { value: content, path: field, depth: 1 },
  ];
  while (stack.length > 0 && problems.length < 10) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value !== 'object' || value === null) {
      continue;
    }
    if (depth > maxDepth) {
      problems.push({ field: path, message: `nests deeper than ${maxDepth} levels` });
      continue;
    }
    if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index -= 1) {
        stack.push({ value: value[index], path: childPath(path, index), depth: depth + 1 });
      }
      continue;
    }
    const keys = Object.keys(value);
    for (let index = keys.length - 1; index >= 0; index -= 1) {
      const key = keys[index];
      const path_ = childPath(path, key);
      if (key.startsWith('$')) {
        problems.push({ field: path_, message: "keys must not start with '$'" });
      } else if (key.includes('.')) {
        problems.push({ field: path_, message: "keys must not contain '.'" });
      } else if (key.includes('\u0000')) {
        problems.push({ field: path_, message: 'keys must not contain NUL characters' });
      } else {
        stack.push({ value: (value as Record<string, unknown>)[key], path: path_, depth: depth + 1 });
      }
    }
  }
  return problems;
}
