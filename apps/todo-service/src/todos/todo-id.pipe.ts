import { Injectable, type PipeTransform } from '@nestjs/common';
import { ValidationError } from '@app/errors';

/** Parses `{todoid}`: a positive safe integer written in plain decimal digits (no sign, no exponent). */
export function parseTodoId(raw: unknown): number | undefined {
  if (typeof raw !== 'string' || !/^[1-9][0-9]{0,15}$/.test(raw)) {
    return undefined;
  }
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * A validated `{todoid}`. Typed as an intersection so the route parameter's design type is `Object`:
 * the global ValidationPipe then leaves the raw string alone (it would turn `1e3` into 1000) and
 * TodoIdPipe sees exactly what the client sent.
 */
export type TodoId = number & { readonly __todoId?: never };

@Injectable()
export class TodoIdPipe implements PipeTransform<unknown, TodoId> {
  transform(raw: unknown): TodoId {
    const value = parseTodoId(raw);
    if (value === undefined) {
      throw new ValidationError('todoid: must be a positive integer', [
        { field: 'todoid', message: 'must be a positive integer' },
      ]);
    }
    return value;
  }
}
