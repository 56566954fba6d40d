import { completionEventId, documentKey, todoKeyOfEvent } from './outbox.service';

const DOC = { _id: '42', createdAt: new Date('2026-11-26T10:00:00.000Z') };

describe('completionEventId', () => {
  it('is todo-<todoid>-<version-5 UUID of the document>: the same for the same document', () => {
    const id = completionEventId(DOC);
    expect(id).toMatch(/^todo-42-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(completionEventId({ ...DOC, createdAt: new Date(DOC.createdAt) })).toBe(id);
    // The Event API accepts it as an event id (1-128 of [A-Za-z0-9._:@-]).
    expect(id).toMatch(/^[A-Za-z0-9._:@-]{1,128}$/);
  });

  it('differs for different documents', () => {
    expect(completionEventId(DOC)).not.toBe(completionEventId({ ...DOC, _id: '43' }));
  });

  it('names its todo, and nothing else does', () => {
    expect(todoKeyOfEvent(completionEventId(DOC))).toBe('42');
    expect(todoKeyOfEvent(completionEventId({ ...DOC, _id: '9007199254740991' }))).toBe('9007199254740991');
    for (const other of [
      '6f1b7c3e-1d2a-5b3c-9d4e-5f6a7b8c9d0e',
      'todo-42',
      'todo-042-6f1b7c3e-1d2a-5b3c-9d4e-5f6a7b8c9d0e',
      'todo-42-6f1b7c3e-1d2a-4b3c-9d4e-5f6a7b8c9d0e',
      'todo-42-6f1b7c3e-1d2a-5b3c-9d4e-5f6a7b8c9d0e-x',
    ]) {
      expect(todoKeyOfEvent(other)).toBeUndefined();
    }
  });
});

describe('documentKey', () => {
  it('tells a todoid deleted and created again from the first document of that todoid', () => {
    const first = { _id: '7', createdAt: new Date('2026-11-26T10:00:00.000Z') };
    const again = { _id: '7', createdAt: new Date('2026-11-26T10:00:05.123Z') };
    expect(documentKey(first)).not.toBe(documentKey(again));
    expect(completionEventId(first)).not.toBe(completionEventId(again));
    expect(documentKey({ _id: '7', createdAt: new Date('2026-11-26T10:00:00.000Z') })).toBe(
      documentKey(first),
    );
  });
});
