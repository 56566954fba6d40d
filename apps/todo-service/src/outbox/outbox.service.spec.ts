import { completionEventId, documentKey } from './outbox.service';

describe('completionEventId', () => {
  it('is a version-5 UUID derived from the document id: the same for the same document', () => {
    const id = completionEventId('6566a1f0c2b3d4e5f6a7b8c9');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(completionEventId('6566a1f0c2b3d4e5f6a7b8c9')).toBe(id);
  });

  it('differs for different documents', () => {
    expect(completionEventId('6566a1f0c2b3d4e5f6a7b8c9')).not.toBe(
      completionEventId('6566a1f0c2b3d4e5f6a7b8ca'),
    );
  });
});

describe('documentKey', () => {
  it('tells a todoid deleted and created again from the first document of that todoid', () => {
    const first = documentKey({ _id: '7', createdAt: new Date('2026-11-26T10:00:00.000Z') });
    const again = documentKey({ _id: '7', createdAt: new Date('2026-11-26T10:00:05.123Z') });
    expect(first).not.toBe(again);
    expect(completionEventId(first)).not.toBe(completionEventId(again));
    expect(documentKey({ _id: '7', createdAt: new Date('2026-11-26T10:00:00.000Z') })).toBe(first);
  });
});
