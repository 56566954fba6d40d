/**
 * Delivery receipts (SPEC section 3, issue 10). When a client acknowledges an event, the gateway
 * appends one entry to the Redis stream RECEIPTS_STREAM (under the configured key prefix), in the
 * same MULTI as the removal from the user's inbox. The todo-service reads the stream with the
 * consumer group RECEIPTS_GROUP and records the receipt on the todo, then XACKs it.
 *
 * Stream entry fields (all strings): eventId, userid, type, ackedAt (ISO-8601).
 */
export const RECEIPTS_STREAM = 'downstream:receipts';
export const RECEIPTS_GROUP = 'todo-service';

export interface ReceiptEntry {
  eventId: string;
  userid: string;
  type: string;
  ackedAt: string;
}

/** Forward-only: pending → stored | delivered → acked. */
export const DELIVERY_STATUSES = ['pending', 'stored', 'delivered', 'acked'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const DELIVERY_STATUS_RANK: Record<DeliveryStatus, number> = { pending: 0, stored: 1, delivered: 2, acked: 3 };
