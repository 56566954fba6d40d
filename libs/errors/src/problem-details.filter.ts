import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type FieldProblem } from './domain.error';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails, problemType, urlPath } from './problem';

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const STATUS_CODES: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'too-many-requests',
  503: 'dependency-unavailable',
};

/** Errors of drivers that mean "a dependency is down", never "the request was wrong". */
const UNAVAILABLE_ERROR_NAMES = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoServerClosedError',
  'MongoPoolClearedError',
  'MongoPoolClosedError',
  'MongoWaitQueueTimeoutError',
  'MongooseServerSelectionError',
  'MaxRetriesPerRequestError',
]);

/**
 * Node's codes for a connection that broke under a client (a server killed mid-command can surface
 * as a bare socket error, e.g. EPIPE "This socket has been ended by the other party").
 */
const CONNECTION_ERROR_CODES = new Set([
  'EPIPE',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_SOCKET_CLOSED',
  'ERR_STREAM_WRITE_AFTER_END',
  'ERR_STREAM_DESTROYED',
]);

/** Labels the MongoDB driver puts on errors that a retry against a healthy server would not get. */
const UNAVAILABLE_ERROR_LABELS = ['ResetPool', 'RetryableWriteError', 'TransientTransactionError'];

/** The error's class and every class it extends (a driver subclass of MongoNetworkError counts as one). */
function classNames(error: Error): string[] {
  const names = [error.name];
  for (
    let proto: unknown = Object.getPrototypeOf(error);
    proto && proto !== Error.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    const ctor = (proto as { constructor?: { name?: unknown } }).constructor;
    if (typeof ctor?.name === 'string') {
      names.push(ctor.name);
    }
  }
  return names;
}

function isUnavailable(error: Error): boolean {
  if (classNames(error).some((name) => UNAVAILABLE_ERROR_NAMES.has(name))) {
    return true;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) {
    return true;
  }
  const labelled = error as { hasErrorLabel?: (label: string) => boolean };
  if (
    typeof labelled.hasErrorLabel === 'function' &&
    UNAVAILABLE_ERROR_LABELS.some((label) => labelled.hasErrorLabel?.(label))
  ) {
    return true;
  }
  const message = error.message ?? '';
  return (
    /buffering timed out/i.test(message) ||
    /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|connection .* closed/i.test(message)
  );
}

interface FastifyLikeError extends Error {
  statusCode?: number;
  code?: string;
  validation?: unknown;
}

export function toProblem(
  exception: unknown,
  instance?: string,
): { problem: ProblemDetails; unexpected: boolean } {
  if (exception instanceof DomainError) {
    return {
      unexpected: false,
      problem: {
        type: problemType(exception.code),
        title: exception.title,
        status: exception.status,
        detail: exception.message,
        instance,
        ...(exception.errors ? { errors: exception.errors } : {}),
      },
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    let detail = exception.message;
    let errors: FieldProblem[] | undefined;
    const extensions: Record<string, unknown> = {};
    if (typeof body === 'object' && body !== null) {
      const record = body as Record<string, unknown>;
      if (typeof record.message === 'string') {
        detail = record.message;
      } else if (Array.isArray(record.message)) {
        errors = record.message.map((m) => ({ field: '', message: String(m) }));
        detail = errors.map((e) => e.message).join('; ');
      }
      // Terminus puts the per-dependency status under info/error/details.
      for (const key of ['info', 'error', 'details']) {
        if (key in record) {
          extensions[key] = record[key];
        }
      }
    }
    return {
      unexpected: false,
      problem: {
        type: problemType(STATUS_CODES[status] ?? `http-${status}`),
        title: STATUS_TITLES[status] ?? 'Error',
        status,
        detail,
        instance,
        ...(errors ? { errors } : {}),
        ...extensions,
      },
    };
  }
  if (exception instanceof Error) {
    const error = exception as FastifyLikeError;
    // Errors raised by Fastify itself before a handler runs (body parsing, size, media type).
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      const status = error.statusCode;
      return {
        unexpected: false,
        problem: {
          type: problemType(STATUS_CODES[status] ?? `http-${status}`),
          title: STATUS_TITLES[status] ?? 'Error',
          status,
          detail: error.message,
          instance,
        },
      };
    }
    if (isUnavailable(error)) {
      return {
        unexpected: false,
        problem: {
          type: problemType('dependency-unavailable'),
          title: 'Service Unavailable',
          status: HttpStatus.SERVICE_UNAVAILABLE,
          detail: 'a dependency of this service is unavailable, retry later',
          instance,
        },
      };
    }
  }
  return {
    unexpected: true,
    problem: {
      type: problemType('internal'),
      title: 'Internal Server Error',
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      detail: 'an unexpected error occurred; it has been logged',
      instance,
    },
  };
}

/** Turns every error into `application/problem+json` (RFC 9457). */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') {
      throw exception;
    }
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { problem, unexpected } = toProblem(
      exception,
      request.url === undefined ? undefined : urlPath(request.url),
    );
    const requestId = (request.raw as { id?: unknown }).id;
    if (typeof requestId === 'string' || typeof requestId === 'number') {
      problem.requestId = String(requestId);
    }
    if (unexpected) {
      this.logger.error(
        exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
      );
    } else if (problem.status >= 500) {
      this.logger.warn(
        `${problem.status} ${problem.detail}: ${exception instanceof Error ? exception.message : ''}`,
      );
    }
    if (problem.status === 401 && !reply.hasHeader('www-authenticate')) {
      void reply.header('WWW-Authenticate', 'Bearer');
    }
    void reply.status(problem.status).header('Content-Type', PROBLEM_CONTENT_TYPE).send(problem);
  }
}
