import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, Types } from 'mongoose';
import { DELIVERY_STATUS_RANK, DELIVERY_STATUSES, type DeliveryStatus } from '@app/contracts';
import { Todo, type TodoRecord } from '../todos/todo.schema';

function ranksBelow(status: DeliveryStatus): DeliveryStatus[] {
  return DELIVERY_STATUSES.filter((s) => DELIVERY_STATUS_RANK[s] < DELIVERY_STATUS_RANK[status]);
}

/** Bookkeeping updates are not user edits: they leave `updatedAt` alone. */
const BOOKKEEPING = { timestamps: false } as const;

/**
 * The outbox and receipt state in the todo document (`downstream`). Every status change is a
 * conditional single-document update that only moves the status forward.
 */
@Injectable()
export class OutboxRepository {
  constructor(@InjectModel(Todo.name) private readonly todos: Model<Todo>) {}

  findDue(now: Date, limit: number): Promise<TodoRecord[]> {
    return this.todos
      .find({ 'downstream.status': 'pending', 'downstream.nextAttemptAt': { $lte: now } })
      .sort({ 'downstream.nextAttemptAt': 1 })
      .limit(limit)
      .lean<TodoRecord[]>()
      .exec();
  }

  /** Takes the delivery lease of a pending event, unless another replica holds it. */
  async claim(id: Types.ObjectId, eventId: string, now: Date, until: Date, holder: string): Promise<boolean> {
    const result = await this.todos
      .updateOne(
        {
          _id: id,
          'downstream.eventId': eventId,
          'downstream.status': 'pending',
          $or: [{ 'downstream.lockedUntil': null }, { 'downstream.lockedUntil': { $lte: now } }],
        },
        { $set: { 'downstream.lockedUntil': until, 'downstream.lockedBy': holder } },
        BOOKKEEPING,
      )
      .exec();
    return result.modifiedCount === 1;
  }

  /** The gateway accepted the event: `stored` or `delivered`, never over a higher status. */
  async markAccepted(eventId: string, status: 'stored' | 'delivered'): Promise<boolean> {
    const result = await this.todos
      .updateOne(
        { 'downstream.eventId': eventId, 'downstream.status': { $in: ranksBelow(status) } },
        {
          $set: {
            'downstream.status': status,
            'downstream.nextAttemptAt': null,
            'downstream.lockedUntil': null,
            'downstream.lockedBy': null,
            'downstream.lastError': null,
          },
        },
        BOOKKEEPING,
      )
      .exec();
    return result.modifiedCount === 1;
  }

  /** A delivery attempt failed: release the lease and schedule the next attempt. */
  async markFailed(eventId: string, holder: string, nextAttemptAt: Date, error: string): Promise<void> {
    await this.todos
      .updateOne(
        { 'downstream.eventId': eventId, 'downstream.status': 'pending', 'downstream.lockedBy': holder },
        {
          $set: {
            'downstream.nextAttemptAt': nextAttemptAt,
            'downstream.lockedUntil': null,
            'downstream.lockedBy': null,
            'downstream.lastError': error.slice(0, 500),
          },
          $inc: { 'downstream.attempts': 1 },
        },
        BOOKKEEPING,
      )
      .exec();
  }

  findByEventId(eventId: string): Promise<TodoRecord | null> {
    return this.todos.findOne({ 'downstream.eventId': eventId }).lean<TodoRecord>().exec();
  }

  /** The user acknowledged the event: `acked`, once. */
  async markAcked(id: Types.ObjectId, eventId: string, acknowledgedAt: Date): Promise<boolean> {
    const result = await this.todos
      .updateOne(
        { _id: id, 'downstream.eventId': eventId, 'downstream.status': { $in: ranksBelow('acked') } },
        {
          $set: {
            'downstream.status': 'acked',
            'downstream.acknowledgedAt': acknowledgedAt,
            'downstream.nextAttemptAt': null,
            'downstream.lockedUntil': null,
            'downstream.lockedBy': null,
          },
        },
        BOOKKEEPING,
      )
      .exec();
    return result.modifiedCount === 1;
  }
}
