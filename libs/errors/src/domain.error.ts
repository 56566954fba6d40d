import { HttpStatus } from '@nestjs/common';

export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * An error a service throws on purpose. `code` becomes the problem `type`
 * (`https://downstream.dev/problems/<code>`), `status` the HTTP status.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly status: HttpStatus,
    readonly title: string,
    detail?: string,
    readonly errors?: FieldProblem[],
  ) {
    super(detail ?? title);
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  constructor(detail: string) {
    super('not-found', HttpStatus.NOT_FOUND, 'Not Found', detail);
  }
}

export class ConflictError extends DomainError {
  constructor(detail: string) {
    super('conflict', HttpStatus.CONFLICT, 'Conflict', detail);
  }
}

export class ValidationError extends DomainError {
  constructor(detail: string, errors: FieldProblem[]) {
    super('validation', HttpStatus.BAD_REQUEST, 'Bad Request', detail, errors);
  }
}

export class DependencyUnavailableError extends DomainError {
  constructor(dependency: string, detail?: string) {
    super(
      'dependency-unavailable',
      HttpStatus.SERVICE_UNAVAILABLE,
      'Service Unavailable',
      detail ?? `${dependency} is unavailable, retry later`,
    );
  }
}

export class UnauthorizedError extends DomainError {
  constructor(detail = 'authentication required') {
    super('unauthorized', HttpStatus.UNAUTHORIZED, 'Unauthorized', detail);
  }
}
