/** The payload the gateway emits to a client as the Socket.IO event `downstream` (SPEC section 5). */
export interface DownstreamEvent<T = unknown> {
  id: string;
  type: string;
  userid?: string;
  data: T;
  createdAt: string;
}

/** The Socket.IO event name the gateway emits; the client acknowledges through its callback. */
export const DOWNSTREAM_EVENT = 'downstream';

/** The default `type` of an event posted without one. */
export const DEFAULT_EVENT_TYPE = 'downstream';

/** The event type the todo-service sends when a todo is completed. */
export const TODO_COMPLETED_EVENT = 'todo.completed';

/** Body of `POST /events/{userid}/downstream` and `POST /events/downstream` (SPEC section 4). */
export interface PostEventBody<T = unknown> {
  type?: string;
  data: T;
  id?: string;
}

/** 202 answer of `POST /events/{userid}/downstream`. */
export interface UserEventAccepted {
  id: string;
  userid: string;
  /** Sockets the event was emitted to now (across replicas). */
  delivered: number;
  stored: true;
}

/** 202 answer of `POST /events/downstream` (broadcast; not stored). */
export interface BroadcastAccepted {
  id: string;
  delivered: number;
}

/** An entry of `GET /clients` and of the Redis registry `client-list`. */
export interface ClientEntry {
  userId: string;
  socketId: string;
  lastConnectedTime: string;
}
