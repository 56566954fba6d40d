import {
  type CallHandler,
  type ExecutionContext,
  HttpStatus,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { DomainError, ValidationError } from '@app/errors';
import { validateContent } from './content.validation';

const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;

/**
 * Runs before the validation pipe on the routes that take a todo body: the body must be JSON
 * (415 otherwise; Fastify also parses text/plain), and `content` is checked iteratively (keys, depth)
 * before class-transformer walks it recursively.
 */
@Injectable()
export class TodoBodyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const contentType = request.headers['content-type'];
    if (typeof contentType !== 'string' || !JSON_MEDIA_TYPE.test(contentType)) {
      throw new DomainError(
        'unsupported-media-type',
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        'Unsupported Media Type',
        'the body must be sent as application/json',
      );
    }
    const body: unknown = request.body;
    if (typeof body === 'object' && body !== null && !Array.isArray(body) && 'content' in body) {
      const problems = validateContent(body.content);
      if (problems.length > 0) {
        throw new ValidationError(problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);
      }
    }
    return next.handle();
  }
}
