import { Injectable } from '@nestjs/common';
import type { TodoJson } from '@app/contracts';
import { DependencyUnavailableError, NotFoundError } from '@app/errors';
import { completionEventId, OutboxService, type DeliveryOutcome } from '../outbox/outbox.service';
import type { CreateTodoDto } from './dto/create-todo.dto';
import { DEFAULT_LIMIT, type ListTodosQuery } from './dto/list-todos.query';
import type { UpdateTodoDto } from './dto/update-todo.dto';
import { toTodoResponse } from './todo.mapper';
import type { TodoRecord } from './todo.schema';
import { type TodoChanges, TodosRepository } from './todos.repository';

export interface CompletionResult {
  todo: TodoJson;
  event: { id: string; status: DeliveryOutcome };
}

@Injectable()
export class TodosService {
  constructor(
    private readonly repository: TodosRepository,
    private readonly outbox: OutboxService,
  ) {}

  async create(dto: CreateTodoDto): Promise<TodoJson> {
    const doc = await this.repository.create({
      todoid: dto.todoid,
      userid: dto.userid,
      content: dto.content,
      completed: dto.completed === true,
    });
    return toTodoResponse(doc);
  }

  async list(query: ListTodosQuery): Promise<{ items: TodoJson[]; total: number }> {
    const { items, total } = await this.repository.list(
      {
        userid: query.userid,
        completed: query.completed === undefined ? undefined : query.completed === 'true',
        downstreamStatus: query['downstream.status'],
      },
      query.limit ?? DEFAULT_LIMIT,
      query.offset ?? 0,
    );
    return { items: items.map(toTodoResponse), total };
  }

  async get(todoid: number): Promise<TodoJson> {
    return toTodoResponse(await this.require(todoid));
  }

  async update(todoid: number, dto: UpdateTodoDto): Promise<TodoJson> {
    const current = await this.require(todoid);
    const changes: TodoChanges = { userid: dto.userid, content: dto.content, completed: dto.completed };
    if (dto.completed === true && !current.completed) {
      changes.completedAt = new Date();
    } else if (dto.completed === false) {
      changes.completedAt = null;
    }
    const updated = await this.repository.update(todoid, changes);
    if (!updated) {
      throw this.notFound(todoid);
    }
    return toTodoResponse(updated);
  }

  async delete(todoid: number): Promise<void> {
    if (!(await this.repository.delete(todoid))) {
      throw this.notFound(todoid);
    }
  }

  /**
   * Completes a todo and hands its one `todo.completed` event to the Event API. The completion and
   * the outbox entry are one conditional single-document write (its event id derives from the
   * document, so concurrent completions, on any replica, name the same event); delivery is
   * attempted at once and, if the gateway is unreachable, retried by the outbox dispatcher.
   * A request that finds the event being delivered waits for that delivery and reports its outcome.
   */
  async complete(todoid: number): Promise<CompletionResult> {
    const found = await this.require(todoid);
    const eventId = found.downstream?.eventId ?? completionEventId(found);
    if (!found.downstream) {
      // The usual case: claimed in this process, one write completes the todo, creates its event
      // and names its holder; no read under the claim, no lease document (see withFirstCompletion).
      const first = await this.outbox.withFirstCompletion(eventId, (lease) =>
        this.startAndDeliver(found, eventId, lease),
      );
      if (first.acquired && first.value) {
        return first.value;
      }
      if (!first.acquired) {
        await this.outbox.awaitRelease(eventId);
      }
    }
    for (let round = 0; round < 3; round += 1) {
      const before = (await this.repository.findById(found._id)) ?? this.throwNotFound(todoid);
      if (
        before.downstream?.eventId === eventId &&
        before.completed &&
        before.downstream.status !== 'pending'
      ) {
        // Completed and handed over already: nothing to do but report it.
        return this.completionResult({ ...before, downstream: before.downstream });
      }
      const attempt = await this.outbox.withLease(eventId, async (lease) => {
        const current = (await this.repository.findById(found._id)) ?? this.throwNotFound(todoid);
        if (!current.downstream) {
          // Conditional on the document first read: a todoid deleted and created again meanwhile is another todo.
          return this.startAndDeliver(found, eventId, lease);
        }
        let doc = current;
        if (!current.completed) {
          // Reopened with PUT since its completion: completed again (with its one event), read again.
          await this.repository.recomplete(current._id, new Date());
          doc = (await this.repository.findById(current._id)) ?? this.throwNotFound(todoid);
        }
        await this.outbox.deliverHeld(doc, lease);
        return undefined;
      });
      if (attempt.acquired && attempt.value) {
        return attempt.value;
      }
      if (!attempt.acquired) {
        await this.outbox.awaitRelease(eventId);
      }
      const doc = (await this.repository.findById(found._id)) ?? this.throwNotFound(todoid);
      if (doc.downstream) {
        return this.completionResult({ ...doc, downstream: doc.downstream });
      }
    }
    throw new DependencyUnavailableError(
      'mongodb',
      `todo ${todoid} is being completed by another request, retry`,
    );
  }

  /**
   * One write completes `doc` (if it still has no event: conditional on the document read, its
   * creation time included), creates its event and names `lease` its holder; then the delivery.
   * Undefined when the todo had an event already.
   */
  private async startAndDeliver(
    doc: TodoRecord,
    eventId: string,
    lease: { holder: string; until: Date },
  ): Promise<CompletionResult | undefined> {
    const now = new Date();
    const started = await this.repository.startCompletion(
      doc,
      eventId,
      now,
      this.outbox.takeOverAt(now),
      lease,
    );
    if (!started?.downstream) {
      return undefined;
    }
    // The todo as the delivery left it: no need to read it again.
    const outcome = (await this.outbox.deliverStarted(started)) ?? started.downstream.status;
    return this.completionResult({ ...started, downstream: { ...started.downstream, status: outcome } });
  }

  private completionResult(
    doc: TodoRecord & { downstream: NonNullable<TodoRecord['downstream']> },
  ): CompletionResult {
    const todo = toTodoResponse(doc);
    const status = todo.downstream?.status ?? 'pending';
    return { todo, event: { id: doc.downstream.eventId, status: status === 'acked' ? 'delivered' : status } };
  }

  private async require(todoid: number): Promise<TodoRecord> {
    return (await this.repository.findByTodoid(todoid)) ?? this.throwNotFound(todoid);
  }

  private notFound(todoid: number): NotFoundError {
    return new NotFoundError(`todo ${todoid} does not exist`);
  }

  private throwNotFound(todoid: number): never {
    throw this.notFound(todoid);
  }
}
