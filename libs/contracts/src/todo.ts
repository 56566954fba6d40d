import type { DeliveryStatus } from './receipts';

/** The Todo JSON of SPEC section 3, as every endpoint returns it and as `data` of `todo.completed`. */
export interface TodoJson {
  todoid: number;
  userid: string;
  content: Record<string, unknown>;
  completed: boolean;
  completedAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** Present once the todo has been completed. */
  downstream?: { eventId: string; status: DeliveryStatus; acknowledgedAt: string | null };
}

/** `userid` and token `sub`: 1–128 characters of [A-Za-z0-9._@-]. */
export const USER_ID_PATTERN = /^[A-Za-z0-9._@-]{1,128}$/;

/** USER_ID_PATTERN in words, for validation messages and API docs. */
export const USER_ID_RULE = '1-128 characters of [A-Za-z0-9._@-]';
