import type { TodoJson } from '@app/contracts';
import type { TodoRecord } from './todo.schema';

function iso(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) {
    return null;
  }
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** The contract shape of SPEC section 3: no `_id`, no `__v`, no outbox bookkeeping. */
export function toTodoResponse(doc: TodoRecord): TodoJson {
  const json: TodoJson = {
    todoid: doc.todoid,
    userid: doc.userid,
    content: doc.content ?? {},
    completed: doc.completed === true,
    completedAt: iso(doc.completedAt),
    createdAt: iso(doc.createdAt) ?? '',
    updatedAt: iso(doc.updatedAt) ?? '',
  };
  if (doc.downstream?.eventId) {
    json.downstream = {
      eventId: doc.downstream.eventId,
      status: doc.downstream.status,
      acknowledgedAt: iso(doc.downstream.acknowledgedAt),
    };
  }
  return json;
}
