import { Injectable, type PipeTransform } from '@nestjs/common';
import { USER_ID_PATTERN, USER_ID_RULE } from '@app/contracts';
import { ValidationError } from '@app/errors';

/** A `{userid}` path parameter: 1-128 characters of [A-Za-z0-9._@-], else 400. */
@Injectable()
export class UserIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (typeof value !== 'string' || !USER_ID_PATTERN.test(value)) {
      throw new ValidationError(`userid must be ${USER_ID_RULE}`, [
        { field: 'userid', message: `must be ${USER_ID_RULE}` },
      ]);
    }
    return value;
  }
}
