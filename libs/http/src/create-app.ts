import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { PROBLEM_CONTENT_TYPE, toProblem } from '@app/errors';
import { SECURITY_HEADERS } from './security-headers';

export interface AppOptions {
  title: string;
  description: string;
  version?: string;
  /** Largest accepted request body, in bytes. */
  bodyLimit?: number;
  /** Extra setup (websocket adapters, static files) before `init()`. */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
  /** Keep the buffered boot logs in memory only (tests). */
  logger?: boolean;
}

/**
 * Builds a service's Nest application on Fastify exactly as production runs it: the same pipes,
 * filters, security headers, Swagger and shutdown hooks. `main.ts` and the tests both use it.
 */
export async function createApp(module: DynamicModule, options: AppOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    trustProxy: true,
    // Return 400 instead of crashing on a body like {"__proto__": …}.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { maxParamLength: 256 },
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // During a drain, a request that arrives on an already-open keep-alive connection is served, with
    // `Connection: close` (Fastify adds it while closing), instead of a bare 503: the client's next
    // request opens a new connection, to another replica.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Errors the router raises before any Nest code runs (a malformed %-escape in the path) are
    // problem+json too, like every other error.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      const { problem } = toProblem(error);
      void reply
        .status(problem.status)
        .header('Content-Type', PROBLEM_CONTENT_TYPE)
        .send({ ...problem, requestId: request.id });
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();

  // Every response carries the request id and helmet's security headers (computed once), including
  // the errors Fastify raises before a handler runs (body parsing, size, media type), which reach
  // Nest's error handler, hence ProblemDetailsFilter, like every other error.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      void reply.headers(SECURITY_HEADERS).header('X-Request-Id', request.id);
      done();
    });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(options.title)
      .setDescription(options.description)
      .setVersion(options.version ?? '1.0.0')
      .build(),
  );
  if (options.configure) {
    await options.configure(app);
  }
  SwaggerModule.setup('api-docs', app, document, { jsonDocumentUrl: 'api-docs-json' });
  await app.init();
  return app;
}
