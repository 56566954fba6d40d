import { toTodoResponse } from './todo.mapper';
import type { TodoRecord } from './todo.schema';

const base: TodoRecord = {
  _id: '87',
  todoid: 87,
  userid: 'test001',
  content: { title: 't', fields: { qty: 0 } },
  completed: false,
  completedAt: null,
  createdAt: new Date('2026-11-26T10:00:00.000Z'),
  updatedAt: new Date('2026-11-26T10:00:01.000Z'),
};

describe('toTodoResponse', () => {
  it('maps a document to exactly the contract shape, without _id or __v', () => {
    const json = toTodoResponse({ ...base, __v: 3 } as TodoRecord);
    expect(json).toEqual({
      todoid: 87,
      userid: 'test001',
      content: { title: 't', fields: { qty: 0 } },
      completed: false,
      completedAt: null,
      createdAt: '2026-11-26T10:00:00.000Z',
      updatedAt: '2026-11-26T10:00:01.000Z',
    });
    expect(Object.keys(json)).toEqual([
      'todoid',
      'userid',
      'content',
      'completed',
      'completedAt',
      'createdAt',
      'updatedAt',
    ]);
  });

  it('adds downstream with only eventId, status and acknowledgedAt once completed', () => {
    const json = toTodoResponse({
      ...base,
      completed: true,
      completedAt: new Date('2026-11-26T10:00:02.000Z'),
      downstream: {
        eventId: 'e-1',
        status: 'acked',
        acknowledgedAt: new Date('2026-11-26T10:00:03.000Z'),
        attempts: 2,
        nextAttemptAt: null,
        lockedUntil: new Date(),
        lockedBy: 'host:1',
        lastError: 'boom',
      },
    });
    expect(json.completedAt).toBe('2026-11-26T10:00:02.000Z');
    expect(json.downstream).toEqual({
      eventId: 'e-1',
      status: 'acked',
      acknowledgedAt: '2026-11-26T10:00:03.000Z',
    });
  });
});
