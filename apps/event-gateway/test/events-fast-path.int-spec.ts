import { testNamespace, type TestApp } from '@app/testing';
import { EventsController } from '../src/events/events.controller';
import { EventsFastPath } from '../src/events/events.fast-path';
import { EventsService } from '../src/events/events.service';
import { startGateway } from './gateway-test-kit';

interface Case {
  label: string;
  userid: string;
  body: string;
  contentType?: string;
}

/** Valid requests (answered by the hook) and refused ones (passed on to the Nest route). */
const CASES: Case[] = [
  { label: 'a new event with an id', userid: 'fp1', body: '{"data":{"todoid":87},"id":"fp-1","type":"todo.completed"}' },
  { label: 'the same id again', userid: 'fp1', body: '{"data":{"todoid":87},"id":"fp-1","type":"todo.completed"}' },
  { label: 'data null, with a charset', userid: 'fp2', body: '{"data":null,"id":"fp-2"}', contentType: 'Application/JSON; charset=utf-8' },
  { label: 'text/plain', userid: 'fp1', body: '{"data":1,"id":"fp-3"}', contentType: 'text/plain' },
  { label: 'a bad userid', userid: 'a%20b', body: '{"data":1,"id":"fp-4"}' },
  { label: 'an unknown field', userid: 'fp1', body: '{"data":1,"id":"fp-5","extra":true}' },
  { label: 'no data', userid: 'fp1', body: '{"id":"fp-6"}' },
  { label: 'a bad id', userid: 'fp1', body: '{"data":1,"id":"a b"}' },
  { label: 'malformed JSON', userid: 'fp1', body: '{"data":' },
];

/**
 * A valid `POST /events/{userid}/downstream` is answered from a preHandler hook (EventsFastPath)
 * instead of the Nest handler; anything else goes on to the Nest route. With the hook disabled,
 * every request takes the Nest route: both must answer alike.
 */
describe('event-gateway Event API, fast path and Nest route', () => {
  const original = EventsController.prototype.emitToUser;
  const handler = jest.spyOn(EventsController.prototype, 'emitToUser');
  let plain: TestApp;
  let hooked: TestApp;

  beforeAll(async () => {
    // Nest reads a route's path and method from metadata on the handler function itself.
    for (const key of Reflect.getMetadataKeys(original) as unknown[]) {
      Reflect.defineMetadata(key, Reflect.getMetadata(key, original), handler);
    }
    // Each on its own key prefix (idempotency records included); `hooked` last, so that prom-client's
    // global registry holds its metrics.
    plain = await startGateway(testNamespace('fastpathplain'));
    jest.spyOn(plain.app.get(EventsFastPath), 'answer').mockReturnValue(false);
    hooked = await startGateway(testNamespace('fastpathhooked'));
  });

  afterAll(async () => {
    await hooked?.close();
    await plain?.close();
    handler.mockRestore();
  });

  async function answers(app: TestApp, cases: Case[]) {
    const results = [];
    for (const { userid, body, contentType } of cases) {
      const response = await fetch(`${app.url}/events/${userid}/downstream`, {
        method: 'POST',
        headers: { 'content-type': contentType ?? 'application/json', 'x-request-id': 'same-id' },
        body,
      });
      results.push({
        status: response.status,
        body: await response.json(),
        headers: ['content-type', 'x-request-id', 'x-content-type-options', 'content-security-policy'].map((name) =>
          response.headers.get(name),
        ),
      });
    }
    return results;
  }

  it('answers valid requests without the Nest handler, and every request as the Nest route does', async () => {
    handler.mockClear();
    const fromHook = await answers(hooked, CASES);
    // Only the refused requests reached the Nest handler (the others are refused by its guard or
    // pipes, before it runs): none was called.
    expect(handler).not.toHaveBeenCalled();

    const fromRoute = await answers(plain, CASES);
    expect(handler).toHaveBeenCalledTimes(3);

    expect(fromHook.map((answer) => answer.status)).toEqual([202, 202, 202, 415, 400, 400, 400, 400, 400]);
    expect(fromHook[0].body).toEqual({ id: 'fp-1', userid: 'fp1', delivered: 0, stored: true });
    expect(fromHook).toEqual(fromRoute);
  });

  it('answers a failure of the service with the same problem+json as the Nest route', async () => {
    const failure = jest
      .spyOn(EventsService.prototype, 'emitToUser')
      .mockRejectedValue(new Error('Connection is closed.'));
    try {
      const request: Case = { label: 'Redis down', userid: 'fp9', body: '{"data":1,"id":"fp-9"}' };
      const fromHook = await answers(hooked, [request]);
      const fromRoute = await answers(plain, [request]);
      expect(fromHook[0].status).toBe(503);
      expect(fromHook[0].headers[0]).toContain('application/problem+json');
      expect(fromHook).toEqual(fromRoute);
    } finally {
      failure.mockRestore();
    }
  });

  it('counts the answers of the hook in the HTTP metrics under the route', async () => {
    const metrics = await (await fetch(`${hooked.url}/metrics`)).text();
    expect(metrics).toMatch(
      /http_server_request_duration_seconds_count\{[^}]*route="\/events\/:userid\/downstream"[^}]*status="202"[^}]*\} [1-9]/,
    );
  });
});
