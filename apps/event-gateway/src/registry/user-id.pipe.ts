import { Injectable, type PipeTransform } from '@nestjs/common';
import { USER_ID_PATTERN } from '@app/contracts';
import { ValidationError } from '@app/errors';

/** A `{userid}` path parameter: 1-128 characters of [A-Za-z0-9._@-], else 400. */
@Injectable()
export class UserIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (typeof value !== 'string' || !USER_ID_PATTERN.test(value)) {
      throw new ValidationError('userid must be 1-128 characters of [A-Za-z0-9._@-]', [
        { field: 'userid', message: 'must be 1-128 characters of [A-Za-z0-9._@-]' },
      ]);
    }
    return value;
  }
}
