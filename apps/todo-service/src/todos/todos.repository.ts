import { randomInt } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Collection } from 'mongodb';
import type { FilterQuery, Model } from 'mongoose';
import { ConflictError, DependencyUnavailableError } from '@app/errors';
import { Counter, Todo, todoKey, type TodoRecord } from './todo.schema';

const DUPLICATE_KEY = 11000;
/** Enough for 100+ concurrent creates on a server whose findAndModify is not atomic. */
const MAX_ALLOCATION_ATTEMPTS = 200;

export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
}

export interface NewTodo {
  todoid?: number;
  userid: string;
  content: Record<string, unknown>;
  completed: boolean;
}

export interface TodoFilter {
  userid?: string;
  completed?: boolean;
  downstreamStatus?: string;
}

export interface TodoChanges {
  userid?: string;
  content?: Record<string, unknown>;
  completed?: boolean;
  completedAt?: Date | null;
}

/** Todo documents: CRUD and todoid allocation. Filters are built from validated primitives only. */
@Injectable()
export class TodosRepository implements OnModuleInit {
  private driver?: Collection<TodoRecord>;

  constructor(
    @InjectModel(Todo.name) private readonly todos: Model<Todo>,
    @InjectModel(Counter.name) private readonly counters: Model<Counter>,
  ) {}

  /** The indexes must exist before the first request. */
  async onModuleInit(): Promise<void> {
    await this.todos.init();
    await this.counters.init();
  }

  /** The driver's own handle on the todos collection (the connection's, so it follows reconnects). */
  private driverCollection(): Collection<TodoRecord> {
    this.driver ??= this.todos.db
      .getClient()
      .db(this.todos.db.name)
      .collection<TodoRecord>(this.todos.collection.collectionName);
    return this.driver;
  }

  async create(input: NewTodo): Promise<TodoRecord> {
    const completedAt = input.completed ? new Date() : null;
    if (input.todoid !== undefined) {
      try {
        return await this.insert({ ...input, todoid: input.todoid, completedAt });
      } catch (error) {
        if (isDuplicateKeyError(error)) {
          throw new ConflictError(`todoid ${input.todoid} is taken`);
        }
        throw error;
      }
    }
    // A counter `$inc` proposes the next id; the unique index decides. On MongoDB the increment is
    // atomic and the first attempt succeeds unless a client took that id. On a server where it is not
    // atomic (FerretDB), racers read the same value: after a collision each adds a random offset
    // (gaps are allowed) so they stop colliding with one another, and moves the counter past its id.
    for (let attempt = 1; attempt <= MAX_ALLOCATION_ATTEMPTS; attempt += 1) {
      let todoid: number;
      try {
        todoid =
          (await this.nextSequence()) + (attempt === 1 ? 0 : randomInt(0, Math.min(2 ** attempt, 256)));
      } catch (error) {
        if (isDuplicateKeyError(error)) {
          continue; // two upserts created the counter at once
        }
        throw error;
      }
      try {
        const created = await this.insert({ ...input, todoid, completedAt });
        if (attempt > 1) {
          await this.counters
            .updateOne({ _id: 'todoid' }, { $max: { seq: todoid } })
            .exec()
            .catch(() => undefined);
        }
        return created;
      } catch (error) {
        if (!isDuplicateKeyError(error)) {
          throw error;
        }
      }
    }
    throw new DependencyUnavailableError('mongodb', 'could not allocate a todoid, retry later');
  }

  private async insert(doc: NewTodo & { todoid: number; completedAt: Date | null }): Promise<TodoRecord> {
    const created = await this.todos.create({
      _id: todoKey(doc.todoid),
      todoid: doc.todoid,
      userid: doc.userid,
      content: doc.content,
      completed: doc.completed,
      completedAt: doc.completedAt,
    });
    return created.toObject() as unknown as TodoRecord;
  }

  private async nextSequence(): Promise<number> {
    const counter = await this.counters
      .findOneAndUpdate({ _id: 'todoid' }, { $inc: { seq: 1 } }, { upsert: true, new: true })
      .lean<{ seq: number }>()
      .exec();
    if (!counter || typeof counter.seq !== 'number') {
      throw new Error('todoid counter returned no value');
    }
    return counter.seq;
  }

  /**
   * The read behind every GET, PUT and completion: a primary-key lookup sent straight through the
   * driver. A lean mongoose query would return the same plain document, after building a Query,
   * casting the filter against the schema, running the (empty) middleware chains and going through
   * mongoose's collection wrapper: about 6% of the CPU of a GET. The filter here is built from a
   * validated integer, so there is nothing to cast.
   */
  findByTodoid(todoid: number): Promise<TodoRecord | null> {
    return this.driverCollection().findOne({ _id: todoKey(todoid) });
  }

  async list(
    filter: TodoFilter,
    limit: number,
    offset: number,
  ): Promise<{ items: TodoRecord[]; total: number }> {
    const query: FilterQuery<Todo> = {};
    if (filter.userid !== undefined) {
      query.userid = String(filter.userid);
    }
    if (filter.completed !== undefined) {
      query.completed = filter.completed === true;
    }
    if (filter.downstreamStatus !== undefined) {
      query['downstream.status'] = String(filter.downstreamStatus);
    }
    const [items, total] = await Promise.all([
      this.todos.find(query).sort({ todoid: 1 }).skip(offset).limit(limit).lean<TodoRecord[]>().exec(),
      this.todos.countDocuments(query).exec(),
    ]);
    return { items, total };
  }

  update(todoid: number, changes: TodoChanges): Promise<TodoRecord | null> {
    const set: Record<string, unknown> = {};
    for (const key of ['userid', 'content', 'completed', 'completedAt'] as const) {
      if (changes[key] !== undefined) {
        set[key] = changes[key];
      }
    }
    return this.todos
      .findOneAndUpdate({ _id: todoKey(todoid) }, { $set: set }, { new: true })
      .lean<TodoRecord>()
      .exec();
  }

  async delete(todoid: number): Promise<boolean> {
    const result = await this.todos.deleteOne({ _id: todoKey(todoid) }).exec();
    return result.deletedCount === 1;
  }

  /**
   * Completes a todo and records its outbox entry in one single-document update, only if it has
   * no event yet, and returns the todo as it is after it (null when it had an event already). The
   * completing request, which holds the event's lease (`holder` until `lockedUntil`, recorded in the
   * same write), delivers it at once; the dispatcher takes over at `firstRetryAt` if that request
   * never finished (its process died).
   */
  startCompletion(
    doc: { _id: string; createdAt: Date },
    eventId: string,
    now: Date,
    firstRetryAt: Date,
    lease: { holder: string; until: Date },
  ): Promise<TodoRecord | null> {
    // On the model's collection, not through a mongoose Query: every value is already of its stored
    // type, and this write is on the hot path of every completion (a Query casts and copies both
    // documents first).
    return this.todos.collection.findOneAndUpdate(
      // The same document (a todoid deleted and created again is another one, with another event).
      { _id: doc._id, createdAt: doc.createdAt, downstream: { $exists: false } } as never,
      {
        $set: {
          completed: true,
          completedAt: now,
          updatedAt: now,
          downstream: {
            eventId,
            status: 'pending',
            acknowledgedAt: null,
            attempts: 0,
            nextAttemptAt: firstRetryAt,
            lockedUntil: lease.until,
            lockedBy: lease.holder,
            lastError: null,
          },
        },
      },
      { returnDocument: 'after' },
    ) as Promise<TodoRecord | null>;
  }

  /** A todo reopened with PUT after its completion is completed again (with its one event). */
  async recomplete(id: string, now: Date): Promise<void> {
    await this.todos
      .updateOne({ _id: id, completed: false }, { $set: { completed: true, completedAt: now } })
      .exec();
  }

  findById(id: string): Promise<TodoRecord | null> {
    return this.todos.findOne({ _id: id }).lean<TodoRecord>().exec();
  }
}
