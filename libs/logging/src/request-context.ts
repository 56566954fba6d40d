import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { storage } from 'nestjs-pino/storage';

/**
 * Keeps nestjs-pino's request context (an AsyncLocalStorage) switched on only while a routed request
 * is in flight.
 *
 * On Node 20 an AsyncLocalStorage works through `async_hooks`: its first `run` installs a
 * process-wide init hook, called for every promise, `nextTick` and native handle created from then
 * on, whatever created it, and it stays installed while the storage is enabled. nestjs-pino's
 * middleware runs the storage for every routed request, so one health probe was enough to put that
 * hook on every later socket write and every answer of the requests that never use the storage:
 * `/auth/verify` (answered before routing) and the gateway's socket traffic: 5–8% of a verification's
 * CPU (bench/analysis.md).
 *
 * Routed requests are counted from an `onRequest` hook to their response's `close`. The hook is added
 * at module init, after middie's (Nest middleware, where nestjs-pino calls `storage.run`), and runs
 * in the same tick as that middleware: the hooks between them are synchronous, so no response can
 * close in between and switch the storage off under a request that is not counted yet. When the
 * count falls to zero the storage is disabled, which removes the hook; the next routed request's
 * `storage.run` enables it again. Log lines written inside a request keep its request id, whatever
 * other requests do meanwhile (a request in flight keeps the storage on); a line logged by a
 * request's leftover work after its response closed, with no other request in flight, is written
 * without the request's fields, as any line outside a request is. A routed request that arrives
 * when none is in flight pays for switching the storage on and off (~1.8 µs here, against ~0.14 µs
 * for a `run` on an enabled storage).
 */
@Injectable()
export class RequestLogContext implements OnModuleInit {
  private inFlight = 0;
  private readonly release = (): void => {
    this.inFlight -= 1;
    if (this.inFlight === 0) {
      storage.disable();
    }
  };

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** Routed requests whose response has not closed yet. */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || typeof fastify.addHook !== 'function') {
      return;
    }
    fastify.addHook('onRequest', (request, reply, done) => {
      this.inFlight += 1;
      reply.raw.once('close', this.release);
      done();
    });
  }
}
