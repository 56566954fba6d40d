import { testNamespace, type TestApp, waitFor } from '@app/testing';
import { closeClients, connectClient, postEvent, startGateway, tokenFor } from './gateway-test-kit';

describe('event-gateway delivery to one user', () => {
  const ns = testNamespace();
  let gateway: TestApp;

  beforeAll(async () => {
    gateway = await startGateway(ns);
  });

  afterEach(() => closeClients());

  afterAll(async () => {
    await gateway?.close();
  });

  it('delivers an event posted for a connected user and answers 202 with the contract shape', async () => {
    const { token } = await tokenFor(gateway, 'smoke1');
    const client = await connectClient(gateway.url, token);
    await waitFor(async () => (await fetch(`${gateway.url}/clients/smoke1`)).status === 200, { description: 'registry entry' });
    const answer = await postEvent(gateway.url, 'smoke1', { type: 'todo.completed', data: { todoid: 7 }, id: 'smoke-1' });
    expect(answer).toEqual({ status: 202, body: { id: 'smoke-1', userid: 'smoke1', delivered: 1, stored: true } });
    await waitFor(() => client.events.length === 1, { description: 'the event' });
    expect(client.events[0]).toEqual({ id: 'smoke-1', type: 'todo.completed', userid: 'smoke1', data: { todoid: 7 }, createdAt: expect.any(String) });
  });
});
