import { Controller, Get, Injectable, Module, Param, Req } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { storage } from 'nestjs-pino/storage';
import { LoggingModule, RequestLogContext } from '@app/logging';
import { waitFor } from '@app/testing';

/** A promise with its resolve function. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** Holds `/slow/:name` requests until the test releases them. */
@Injectable()
class Gates {
  /** Per name: resolved when the request reaches its handler, and the test's release. */
  readonly held = new Map<
    string,
    { entered: ReturnType<typeof deferred>; released: ReturnType<typeof deferred> }
  >();

  gate(name: string): { entered: ReturnType<typeof deferred>; released: ReturnType<typeof deferred> } {
    let gate = this.held.get(name);
    if (!gate) {
      gate = { entered: deferred(), released: deferred() };
      this.held.set(name, gate);
    }
    return gate;
  }
}

@Controller()
class ProbeController {
  constructor(private readonly gates: Gates) {}

  @Get('fast')
  fast(): { ok: true } {
    return { ok: true };
  }

  /** Waits for the test, then reports whether the request's own logger is still the context's. */
  @Get('slow/:name')
  async slow(
    @Param('name') name: string,
    @Req() request: FastifyRequest,
  ): Promise<{ own: boolean; id: unknown }> {
    const { entered, released } = this.gates.gate(name);
    entered.resolve();
    await released.promise;
    const logger = storage.getStore()?.logger;
    // pino-http's logger of this request, the one nestjs-pino binds (the last of `allLogs`).
    const own = logger !== undefined && logger === (request.raw as { allLogs?: unknown[] }).allLogs?.at(-1);
    return { own, id: request.id };
  }
}

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ logLevel: 'silent' })] }),
    LoggingModule.register('request-context-test'),
  ],
  controllers: [ProbeController],
  providers: [Gates],
})
class ProbeModule {}

/** Node 20's own flag of an AsyncLocalStorage: while true, its process-wide async_hooks are installed. */
const storageEnabled = (): boolean => (storage as unknown as { enabled: boolean }).enabled;

describe('the request log context (nestjs-pino AsyncLocalStorage) switched off between routed requests', () => {
  let app: NestFastifyApplication;
  let url: string;
  let gates: Gates;
  let context: RequestLogContext;

  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(
      ProbeModule,
      new FastifyAdapter({ requestIdHeader: 'x-request-id' }),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    gates = app.get(Gates);
    context = app.get(RequestLogContext);
  });

  afterAll(async () => {
    // A test that failed midway leaves its request held: let it finish so the server can close.
    for (const { released } of gates?.held.values() ?? []) {
      released.resolve();
    }
    await app?.close();
  });

  it('is switched off once no routed request is in flight', async () => {
    expect((await fetch(`${url}/fast`)).status).toBe(200);
    await waitFor(() => context.requestsInFlight === 0 && !storageEnabled(), {
      description: 'the storage disabled after the last response closed',
    });
  });

  it('stays on for a request in flight while other requests come and go', async () => {
    const { entered, released } = gates.gate('a');
    const slow = fetch(`${url}/slow/a`, { headers: { 'x-request-id': 'slow-a' } });
    await entered.promise;
    expect(storageEnabled()).toBe(true);
    for (let i = 0; i < 3; i += 1) {
      expect((await fetch(`${url}/fast`)).status).toBe(200);
    }
    // The fast requests' responses have closed; the slow one is still in flight.
    await waitFor(() => context.requestsInFlight === 1, { description: 'only the slow request in flight' });
    expect(storageEnabled()).toBe(true);
    released.resolve();
    const answer = (await (await slow).json()) as { own: boolean; id: string };
    expect(answer).toEqual({ own: true, id: 'slow-a' });
    await waitFor(() => !storageEnabled(), { description: 'the storage disabled after the slow request' });
  });

  it('is switched on again by the next routed request, which has its own context', async () => {
    await waitFor(() => !storageEnabled(), { description: 'the storage disabled' });
    const { released } = gates.gate('b');
    released.resolve();
    const answer = (await (
      await fetch(`${url}/slow/b`, { headers: { 'x-request-id': 'slow-b' } })
    ).json()) as {
      own: boolean;
      id: string;
    };
    expect(answer).toEqual({ own: true, id: 'slow-b' });
  });
});
