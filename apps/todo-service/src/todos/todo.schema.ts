import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Schema as MongooseSchema } from 'mongoose';
import { DELIVERY_STATUSES, type DeliveryStatus } from '@app/contracts';

/**
 * The completion event of a todo and its delivery state: the outbox entry (attempts, nextAttemptAt,
 * the lease) and the receipt (status, acknowledgedAt). Only eventId, status and acknowledgedAt are
 * ever returned to clients.
 */
@Schema({ _id: false, versionKey: false })
export class Downstream {
  @Prop({ type: String, required: true })
  eventId!: string;

  @Prop({ type: String, required: true, enum: DELIVERY_STATUSES })
  status!: DeliveryStatus;

  @Prop({ type: Date, default: null })
  acknowledgedAt!: Date | null;

  @Prop({ type: Number, default: 0 })
  attempts!: number;

  /** When the dispatcher may try again; null once the gateway has accepted the event. */
  @Prop({ type: Date, default: null })
  nextAttemptAt!: Date | null;

  /** A replica holds the event until this time while it delivers it. */
  @Prop({ type: Date, default: null })
  lockedUntil!: Date | null;

  @Prop({ type: String, default: null })
  lockedBy!: string | null;

  @Prop({ type: String, default: null })
  lastError!: string | null;
}

export const DownstreamSchema = SchemaFactory.createForClass(Downstream);

@Schema({ collection: 'todos', timestamps: true, versionKey: false, minimize: false, strict: true })
export class Todo {
  /**
   * The todoid, in decimal, is the document's primary key (`todoKey`): a lookup by todoid is a
   * primary-key lookup. A string rather than the number because FerretDB, the MongoDB-protocol
   * server of the tests and the local stack, uses its primary key only for string and ObjectId
   * `_id` filters; on MongoDB either is a primary-key lookup.
   */
  @Prop({ type: String, required: true })
  _id!: string;

  /** The number itself, under its contract name: sorts and indexes use it. */
  @Prop({ type: Number, required: true })
  todoid!: number;

  @Prop({ type: String, required: true })
  userid!: string;

  /** Any JSON object; keys are validated before they get here (no `$`, no `.`, depth ≤ 32). */
  @Prop({ type: MongooseSchema.Types.Mixed, required: true })
  content!: Record<string, unknown>;

  @Prop({ type: Boolean, default: false })
  completed!: boolean;

  @Prop({ type: Date, default: null })
  completedAt!: Date | null;

  @Prop({ type: DownstreamSchema, required: false })
  downstream?: Downstream;
}

export const TodoSchema = SchemaFactory.createForClass(Todo);
TodoSchema.index({ todoid: 1 }, { unique: true });
TodoSchema.index({ userid: 1, todoid: 1 });
TodoSchema.index({ 'downstream.eventId': 1 });
TodoSchema.index({ 'downstream.status': 1, 'downstream.nextAttemptAt': 1 });

/** The `_id` of the todo `todoid`. */
export function todoKey(todoid: number): string {
  return String(todoid);
}

/** A todo as `.lean()` reads it. */
export interface TodoRecord {
  /** `todoKey(todoid)`. */
  _id: string;
  todoid: number;
  userid: string;
  content: Record<string, unknown>;
  completed: boolean;
  completedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  downstream?: Downstream;
}

/** The counter that allocates todoids (`_id: 'todoid'`). */
@Schema({ collection: 'counters', versionKey: false })
export class Counter {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: Number, required: true, default: 0 })
  seq!: number;
}

export const CounterSchema = SchemaFactory.createForClass(Counter);
