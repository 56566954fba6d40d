import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { DELIVERY_STATUS_RANK, DELIVERY_STATUSES, type DeliveryStatus } from '@app/contracts';
import { isDuplicateKeyError } from '../todos/todos.repository';
import { Todo, type TodoRecord } from '../todos/todo.schema';
import { OutboxLease } from './outbox-lease.schema';

function ranksBelow(status: DeliveryStatus): DeliveryStatus[] {
  return DELIVERY_STATUSES.filter((s) => DELIVERY_STATUS_RANK[s] < DELIVERY_STATUS_RANK[status]);
}

/** Bookkeeping updates are not user edits: they leave `updatedAt` alone. */
const BOOKKEEPING = { timestamps: false } as const;

/**
 * The outbox and receipt state in the todo document (`downstream`). Every status change is a
 * conditional single-document update that only moves the status forward. The writes on the path of
 * every completion and receipt go to the model's collection directly (their values are already of
 * the stored types; a mongoose Query would cast and copy them first), and leave `updatedAt` alone:
 * bookkeeping is not a user edit.
 */
@Injectable()
export class OutboxRepository {
  constructor(
    @InjectModel(Todo.name) private readonly todos: Model<Todo>,
    @InjectModel(OutboxLease.name) private readonly leases: Model<OutboxLease>,
  ) {}

  findDue(now: Date, limit: number): Promise<TodoRecord[]> {
    return this.todos
      .find({ 'downstream.status': 'pending', 'downstream.nextAttemptAt': { $lte: now } })
      .sort({ 'downstream.nextAttemptAt': 1 })
      .limit(limit)
      .lean<TodoRecord[]>()
      .exec();
  }

  /**
   * Takes the delivery lease of an event: an insert keyed by the event id that only one claimant
   * wins; an expired lease (its holder died) is removed and taken over.
   */
  async acquireLease(eventId: string, holder: string, now: Date, until: Date): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        await this.leases.create({ _id: eventId, holder, until });
        return true;
      } catch (error) {
        if (!isDuplicateKeyError(error)) {
          throw error;
        }
      }
      const current = await this.leases
        .findOne({ _id: eventId })
        .lean<{ holder: string; until: Date }>()
        .exec();
      if (current && new Date(current.until).getTime() > now.getTime()) {
        return false;
      }
      if (current) {
        await this.leases.deleteOne({ _id: eventId, holder: current.holder }).exec();
      }
    }
    return false;
  }

  /** Whether someone holds an unexpired lease of the event. */
  async leaseHeld(eventId: string, now: Date): Promise<boolean> {
    const current = await this.leases.findOne({ _id: eventId }).lean<{ until: Date }>().exec();
    return current !== null && new Date(current.until).getTime() > now.getTime();
  }

  async releaseLease(eventId: string, holder: string): Promise<void> {
    await this.leases.deleteOne({ _id: eventId, holder }).exec();
  }

  /** Shows who holds the event in the todo (for operators); the lease document decides. */
  async recordHolder(id: string, eventId: string, holder: string, until: Date): Promise<void> {
    await this.todos
      .updateOne(
        { _id: id, 'downstream.eventId': eventId, 'downstream.status': 'pending' },
        { $set: { 'downstream.lockedUntil': until, 'downstream.lockedBy': holder } },
        BOOKKEEPING,
      )
      .exec();
  }

  /** The gateway accepted the event: `stored` or `delivered`, never over a higher status. */
  async markAccepted(id: string, eventId: string, status: 'stored' | 'delivered'): Promise<boolean> {
    const result = await this.todos.collection.updateOne(
      { _id: id, 'downstream.eventId': eventId, 'downstream.status': { $in: ranksBelow(status) } } as never,
      {
        $set: {
          'downstream.status': status,
          'downstream.nextAttemptAt': null,
          'downstream.lockedUntil': null,
          'downstream.lockedBy': null,
          'downstream.lastError': null,
        },
      },
    );
    return result.modifiedCount === 1;
  }

  /** A delivery attempt failed: release the lease and schedule the next attempt. */
  async markFailed(id: string, eventId: string, nextAttemptAt: Date, error: string): Promise<void> {
    await this.todos
      .updateOne(
        { _id: id, 'downstream.eventId': eventId, 'downstream.status': 'pending' },
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

  /** The todo `id` as it is now, if its event is still `eventId` (a todo deleted and created again has another). */
  findEvent(id: string, eventId: string): Promise<TodoRecord | null> {
    return this.todos.findOne({ _id: id, 'downstream.eventId': eventId }).lean<TodoRecord>().exec();
  }

  /** The todo of an event known by its id only (a receipt): a lookup on the `downstream.eventId` index. */
  findByEventId(eventId: string): Promise<TodoRecord | null> {
    return this.todos.findOne({ 'downstream.eventId': eventId }).lean<TodoRecord>().exec();
  }

  /**
   * The user acknowledged an event the gateway has accepted (`stored` or `delivered`) and no one is
   * delivering: `acked`, in one conditional write. Returns the todo as it was, or null when the
   * event is not in that state (pending, being delivered, acked already, unknown).
   */
  markAckedIfAccepted(id: string, eventId: string, acknowledgedAt: Date): Promise<TodoRecord | null> {
    return this.todos.collection.findOneAndUpdate(
      {
        _id: id,
        'downstream.eventId': eventId,
        'downstream.status': { $in: ['stored', 'delivered'] },
        'downstream.lockedBy': null,
      } as never,
      { $set: { 'downstream.status': 'acked', 'downstream.acknowledgedAt': acknowledgedAt } },
      { returnDocument: 'before' },
    ) as Promise<TodoRecord | null>;
  }

  /** The user acknowledged the event: `acked`, once. */
  async markAcked(id: string, eventId: string, acknowledgedAt: Date): Promise<boolean> {
    const result = await this.todos.collection.updateOne(
      { _id: id, 'downstream.eventId': eventId, 'downstream.status': { $in: ranksBelow('acked') } } as never,
      {
        $set: {
          'downstream.status': 'acked',
          'downstream.acknowledgedAt': acknowledgedAt,
          'downstream.nextAttemptAt': null,
          'downstream.lockedUntil': null,
          'downstream.lockedBy': null,
        },
      },
    );
    return result.modifiedCount === 1;
  }
}
