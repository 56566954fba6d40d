import { HttpAdapterHost } from '@nestjs/core';
import { serviceEnv, startTestApp, type TestApp, testNamespace } from '@app/testing';
import { VerifyController } from '../src/auth/verify.controller';
import { authService } from '../src/service';

const PORTAL = `Basic ${Buffer.from('portal:portal-secret').toString('base64')}`;

/**
 * `/auth/verify` is answered from the adapter's first request hook, ahead of Nest's pipeline; the
 * Nest route answers only where that hook is replaced. Both must answer alike.
 */
describe('auth-service /auth/verify, early hook and Nest route', () => {
  const ns = testNamespace();
  const original = VerifyController.prototype.verify;
  const handler = jest.spyOn(VerifyController.prototype, 'verify');
  // Nest reads a route's path and method from metadata on the handler function itself.
  for (const key of Reflect.getMetadataKeys(original) as unknown[]) {
    Reflect.defineMetadata(key, Reflect.getMetadata(key, original), handler);
  }
  let hooked: TestApp;
  let plain: TestApp;

  beforeAll(async () => {
    hooked = await startTestApp(authService, serviceEnv('auth-service', ns));
    plain = await startTestApp(authService, serviceEnv('auth-service', ns));
    // The same app with the adapter's request hook replaced: requests take Nest's whole pipeline.
    plain.app.get(HttpAdapterHost).httpAdapter.setOnRequestHook((_request: unknown, _reply: unknown, done: () => void) => done());
  });

  afterAll(async () => {
    await hooked?.close();
    await plain?.close();
    handler.mockRestore();
  });

  async function answers(app: TestApp, token: string) {
    const results = [];
    const cases: Array<Record<string, string>> = [{ authorization: `Bearer ${token}` }, { authorization: 'Bearer forged' }, {}];
    for (const headers of cases) {
      const response = await fetch(`${app.url}/auth/verify/todos/1`, { headers: { ...headers, 'x-request-id': 'same-id' } });
      const body = (await response.json()) as Record<string, unknown>;
      results.push({
        status: response.status,
        body,
        headers: ['x-user-id', 'x-user-roles', 'x-token-id', 'www-authenticate', 'content-type', 'cache-control', 'x-request-id', 'x-content-type-options'].map((name) =>
          response.headers.get(name),
        ),
      });
    }
    return results;
  }

  it('answers from the hook without running the Nest handler, exactly as the Nest route does', async () => {
    const issued = (await (
      await fetch(`${hooked.url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: PORTAL }, body: JSON.stringify({ sub: 'hooked', roles: ['a', 'b'] }) })
    ).json()) as { access_token: string };

    handler.mockClear();
    const fromHook = await answers(hooked, issued.access_token);
    expect(handler).not.toHaveBeenCalled();

    const fromRoute = await answers(plain, issued.access_token);
    expect(handler).toHaveBeenCalledTimes(3);

    expect(fromHook.map((answer) => answer.status)).toEqual([200, 401, 401]);
    expect(fromHook).toEqual(fromRoute);
  });
});
