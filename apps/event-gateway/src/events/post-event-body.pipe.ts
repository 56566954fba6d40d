import { Injectable, type PipeTransform } from '@nestjs/common';
import { type FieldProblem, ValidationError } from '@app/errors';
import type { PostEventBody } from '@app/contracts';
import { EVENT_ID_PATTERN, MAX_DATA_DEPTH, MAX_TYPE_LENGTH } from './dto/post-event.dto';

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) {
    if (value.charCodeAt(i) < 0x20 || value.charCodeAt(i) === 0x7f) {
      return true;
    }
  }
  return false;
}

const ALLOWED_FIELDS = new Set(['type', 'data', 'id']);

/** Depth of a parsed JSON value, without recursion (a hostile body cannot blow the stack). */
export function jsonDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) {
      continue;
    }
    max = Math.max(max, depth);
    if (max > limit) {
      return max;
    }
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      stack.push([child, depth + 1]);
    }
  }
  return max;
}

/**
 * Validates the Event API body by hand rather than with class-transformer, because `data` is any
 * JSON: it must be present (null allowed), not too deep, and is passed through untouched.
 */
@Injectable()
export class PostEventBodyPipe implements PipeTransform<unknown, PostEventBody> {
  transform(body: unknown): PostEventBody {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ValidationError('the body must be a JSON object with `data`', [
        { field: '', message: 'must be a JSON object' },
      ]);
    }
    const record = body as Record<string, unknown>;
    const problems: FieldProblem[] = [];
    for (const field of Object.keys(record)) {
      if (!ALLOWED_FIELDS.has(field)) {
        problems.push({ field, message: 'is not allowed' });
      }
    }
    if (!Object.prototype.hasOwnProperty.call(record, 'data')) {
      problems.push({ field: 'data', message: 'is required (any JSON value)' });
    } else if (jsonDepth(record.data, MAX_DATA_DEPTH) > MAX_DATA_DEPTH) {
      problems.push({ field: 'data', message: `must be nested at most ${MAX_DATA_DEPTH} levels deep` });
    }
    if (record.id !== undefined && (typeof record.id !== 'string' || !EVENT_ID_PATTERN.test(record.id))) {
      problems.push({ field: 'id', message: 'must be 1-128 characters of [A-Za-z0-9._:@-]' });
    }
    if (
      record.type !== undefined &&
      (typeof record.type !== 'string' ||
        record.type.length < 1 ||
        record.type.length > MAX_TYPE_LENGTH ||
        hasControlCharacter(record.type))
    ) {
      problems.push({
        field: 'type',
        message: `must be a string of 1-${MAX_TYPE_LENGTH} printable characters`,
      });
    }
    if (problems.length > 0) {
      throw new ValidationError(problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);
    }
    return {
      data: record.data,
      ...(record.id !== undefined ? { id: record.id as string } : {}),
      ...(record.type !== undefined ? { type: record.type as string } : {}),
    };
  }
}
