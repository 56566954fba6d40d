import { MongoNetworkError, MongoServerClosedError, MongoServerError } from 'mongodb';
import { BadRequestException, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { ConflictError, DomainError, toProblem, urlPath, ValidationError } from '@app/errors';

describe('toProblem', () => {
  it('maps a domain error to its code, status and field list', () => {
    const { problem, unexpected } = toProblem(
      new ValidationError('userid: too long', [{ field: 'userid', message: 'too long' }]),
      '/todos',
    );
    expect(unexpected).toBe(false);
    expect(problem).toEqual({
      type: 'https://downstream.dev/problems/validation',
      title: 'Bad Request',
      status: 400,
      detail: 'userid: too long',
      instance: '/todos',
      errors: [{ field: 'userid', message: 'too long' }],
    });
    expect(toProblem(new ConflictError('todoid 7 is taken')).problem).toMatchObject({
      status: 409,
      detail: 'todoid 7 is taken',
    });
  });

  it('keeps the status of Nest HTTP exceptions and the health details of Terminus', () => {
    expect(toProblem(new NotFoundException('no todo 3')).problem).toMatchObject({
      status: 404,
      detail: 'no todo 3',
    });
    expect(toProblem(new BadRequestException(['a must be a string'])).problem).toMatchObject({
      status: 400,
      errors: [{ message: 'a must be a string' }],
    });
    const health = new ServiceUnavailableException({
      status: 'error',
      details: { redis: { status: 'down' } },
    });
    expect(toProblem(health).problem).toMatchObject({ status: 503, details: { redis: { status: 'down' } } });
  });

  it('maps errors Fastify raises before a handler (size, media type, JSON) to their 4xx', () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), {
      statusCode: 413,
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    });
    const media = Object.assign(new Error('Unsupported Media Type: text/plain'), { statusCode: 415 });
    expect(toProblem(tooLarge).problem).toMatchObject({ status: 413, title: 'Content Too Large' });
    expect(toProblem(media).problem).toMatchObject({ status: 415, title: 'Unsupported Media Type' });
  });

  it('maps a driver error for an unreachable database to 503, not 500', () => {
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:27017'), {
      name: 'MongoServerSelectionError',
    });
    expect(toProblem(down)).toMatchObject({ unexpected: false, problem: { status: 503 } });
  });

  it('maps every driver error of a lost or cleared connection to 503, by class, subclass or label', () => {
    const network = new MongoNetworkError('socket hang up');
    // The driver's pool-cleared error is a MongoNetworkError subclass with its own name.
    class PoolClearedError extends MongoNetworkError {
      override get name(): string {
        return 'SomeFuturePoolError';
      }
    }
    const cleared = new PoolClearedError('the pool was cleared');
    const labelled = new MongoServerError({ message: 'not primary', errorLabels: ['RetryableWriteError'] });
    for (const error of [network, cleared, labelled, new MongoServerClosedError()]) {
      expect(toProblem(error)).toMatchObject({ unexpected: false, problem: { status: 503 } });
    }
    // What the driver let through when the server was killed mid-command: a bare socket error.
    const ended = Object.assign(new Error('This socket has been ended by the other party'), {
      code: 'EPIPE',
    });
    expect(toProblem(ended)).toMatchObject({ unexpected: false, problem: { status: 503 } });
    const duplicate = new MongoServerError({ message: 'E11000 duplicate key error', code: 11000 });
    expect(toProblem(duplicate).problem.status).toBe(500);
  });

  it('hides the message of an unexpected error behind a generic 500', () => {
    const { problem, unexpected } = toProblem(new TypeError('secret internals'));
    expect(unexpected).toBe(true);
    expect(problem.status).toBe(500);
    expect(problem.detail).not.toContain('secret internals');
  });

  it('does not treat a 5xx statusCode on a plain error as a client error', () => {
    const error = Object.assign(new Error('boom'), { statusCode: 500 });
    expect(toProblem(error).problem.status).toBe(500);
    expect(new DomainError('x', 418, 'Teapot').status).toBe(418);
  });
});

describe('urlPath', () => {
  it('keeps the path of a URL and drops its query string, which may carry secrets', () => {
    expect(urlPath('/todos/1')).toBe('/todos/1');
    expect(urlPath('/auth/verify?access_token=secret')).toBe('/auth/verify');
    expect(urlPath('/a?b=1?c=2')).toBe('/a');
    expect(urlPath('?only=query')).toBe('');
  });
});
