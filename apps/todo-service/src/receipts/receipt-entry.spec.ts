import { parseReceiptFields } from './receipt-entry';

describe('parseReceiptFields', () => {
  it('reads the flat field list of a stream entry', () => {
    const receipt = parseReceiptFields([
      'eventId',
      'e-1',
      'userid',
      'u1',
      'type',
      'todo.completed',
      'ackedAt',
      '2026-11-26T10:00:00.000Z',
    ]);
    expect(receipt).toMatchObject({
      eventId: 'e-1',
      userid: 'u1',
      type: 'todo.completed',
      ackedAt: '2026-11-26T10:00:00.000Z',
    });
    expect(receipt?.ackedDate.getTime()).toBe(Date.parse('2026-11-26T10:00:00.000Z'));
  });

  it('ignores an entry without eventId and falls back to now for an unreadable ackedAt', () => {
    expect(parseReceiptFields(['userid', 'u1'])).toBeUndefined();
    const before = Date.now();
    const receipt = parseReceiptFields(['eventId', 'e-2', 'ackedAt', 'yesterday']);
    expect(receipt?.ackedDate.getTime()).toBeGreaterThanOrEqual(before);
  });
});
