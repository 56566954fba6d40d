import { type CanActivate, type ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '@app/errors';

const JSON_SUFFIX_TYPE = /^application\/[a-z0-9.+-]+\+json$/;

/** True for `application/json` and `application/<x>+json` (parameters and case ignored). */
export function isJsonContentType(header: string | undefined): boolean {
  const type = (header ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || JSON_SUFFIX_TYPE.test(type);
}

/** The Event API takes JSON only: any other media type (form, text) is 415, even if Fastify could parse it. */
@Injectable()
export class JsonContentTypeGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!isJsonContentType(request.headers['content-type'])) {
      throw new DomainError(
        'unsupported-media-type',
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        'Unsupported Media Type',
        'the body must be application/json',
      );
    }
    return true;
  }
}
