import { HttpStatus, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type PostEventBody, USER_ID_PATTERN } from '@app/contracts';
import { EventsService } from './events.service';
import { isJsonContentType } from './json-content-type.guard';
import { PostEventBodyPipe } from './post-event-body.pipe';

/** The route of `POST /events/{userid}/downstream`, as Fastify names it (EventsController.emitToUser). */
export const USER_EVENT_ROUTE = '/events/:userid/downstream';

/**
 * `POST /events/{userid}/downstream` carries every targeted event, so a valid request is answered
 * from a Fastify `preHandler` hook, once Fastify has parsed the body (its body limit, JSON parser and
 * poisoning checks), instead of by Nest's route handler: no router proxy, execution context, guard
 * and pipe consumers, and no reply wrapper per event. Everything that is not specific to the route
 * stays as for every request: the request id and security headers, pino-http's request line (it
 * runs before, as middleware), the HTTP metrics (an `onResponse` hook), and errors from the service
 * go through Nest's error handler, hence ProblemDetailsFilter.
 *
 * The checks are those of the route: JsonContentTypeGuard, UserIdPipe and PostEventBodyPipe. A
 * request that any of them refuses is passed on untouched to the Nest route, which refuses it with
 * its usual problem+json: only accepted requests take the short way, and the route stays what
 * Swagger documents.
 */
@Injectable()
export class EventsFastPath implements OnModuleInit {
  private readonly bodyPipe = new PostEventBodyPipe();

  constructor(
    private readonly events: EventsService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || typeof fastify.addHook !== 'function') {
      return;
    }
    fastify.addHook('preHandler', (request, reply, done) => {
      if (request.routeOptions.url !== USER_EVENT_ROUTE || request.method !== 'POST' || !this.answer(request, reply)) {
        done();
      }
    });
  }

  /**
   * Answers a request the route would accept (202 with the service's answer, or the problem+json of
   * the service's error) and returns true; returns false, having done nothing, for any other.
   */
  answer(request: FastifyRequest, reply: FastifyReply): boolean {
    if (!isJsonContentType(request.headers['content-type'])) {
      return false;
    }
    const userid = (request.params as { userid?: unknown } | undefined)?.userid;
    if (typeof userid !== 'string' || !USER_ID_PATTERN.test(userid)) {
      return false;
    }
    let body: PostEventBody;
    try {
      body = this.bodyPipe.transform(request.body);
    } catch {
      return false;
    }
    this.events.emitToUser(userid, body).then(
      (accepted) => {
        void reply.code(HttpStatus.ACCEPTED).send(accepted);
      },
      (error: unknown) => {
        // Fastify's error handler is Nest's: the same exception filters as a route's error.
        void reply.send(error);
      },
    );
    return true;
  }
}
