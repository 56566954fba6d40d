import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { TODO_COMPLETED_EVENT, type TodoJson } from '@app/contracts';
import type { TodoConfig } from '../config/todo.config';
import { EventApiClient } from '../event-api/event-api.client';
import { toTodoResponse } from '../todos/todo.mapper';
import type { TodoRecord } from '../todos/todo.schema';
import { computeBackoff } from './backoff';
import { OutboxRepository } from './outbox.repository';

export const OUTBOX_DELIVERIES_METRIC = 'todo_outbox_deliveries_total';

export type DeliveryOutcome = 'delivered' | 'stored' | 'pending';

export interface Lease {
  holder: string;
  until: Date;
}

/** What `recordReceipt` resolves with: the todo's completion time when this receipt made it `acked`. */
export type ReceiptResult = { completedAt: Date | null } | null;

/** What a receipt that made `doc` acked resolves with. */
function receiptOf(doc: TodoRecord): ReceiptResult {
  return { completedAt: doc.completedAt ? new Date(doc.completedAt) : null };
}

/** What a receipt finds when a first completion in another process is delivering its event. */
const DELIVERING = Symbol('delivering');

/** A receipt waiting for the holder of its event's lease, in this process, to record it. */
interface WaitingReceipt {
  acknowledgedAt: Date;
  resolve: (result: ReceiptResult) => void;
  reject: (error: unknown) => void;
}

/** An event whose lease this process holds: the receipts that arrived meanwhile, and the todo once delivered. */
interface HeldEvent {
  receipts: WaitingReceipt[];
  /** Settles once the lease is released. */
  released: Promise<void>;
  /** The todo as the delivery left it (its event accepted): a receipt needs no read. */
  accepted?: TodoRecord;
}

/**
 * A document's identity: its todoid and creation time. A todoid deleted and created again is
 * another document, whose completion is another event (the gateway would drop a reused event id as
 * a duplicate).
 */
export function documentKey(doc: { _id: string; createdAt: Date }): string {
  return `${doc._id}@${doc.createdAt.toISOString()}`;
}

/** A version-5 (name-based, SHA-1) UUID of `name`. */
function nameUuid(name: string): string {
  const hash = createHash('sha1').update(name).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8] & 0x3f) | 0x80; // RFC 4122 variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The id of a todo's one completion event, `todo-<todoid>-<UUID>`: the UUID derives from the
 * document's key (`documentKey`), so every completion of the same document — concurrent ones
 * included, on any replica — names the same event; the prefix names the todo, so that a receipt,
 * which carries the event id only, finds its todo by primary key.
 */
export function completionEventId(doc: { _id: string; createdAt: Date }): string {
  return `todo-${doc._id}-${nameUuid(`downstream:${TODO_COMPLETED_EVENT}:${documentKey(doc)}`)}`;
}

const COMPLETION_EVENT_ID =
  /^todo-([1-9][0-9]{0,15})-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The `_id` of the todo a completion event id names; undefined for any other id. */
export function todoKeyOfEvent(eventId: string): string | undefined {
  return COMPLETION_EVENT_ID.exec(eventId)?.[1];
}

/** Hands completion events to the Event API, under a lease, with backoff on failure. */
@Injectable()
export class OutboxService {
  private readonly logger = new Logger(OutboxService.name);
  /** This process, as a lease holder. */
  readonly instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly settings: TodoConfig['outbox'];
  private leases = 0;
  /**
   * The events whose lease this process holds now. A receipt for one of them is handed to the
   * holder instead of contending for the lease: the user usually acknowledges an event while the
   * request that completed it is still recording the gateway's answer, and the holder then records
   * both in one write (or the receipt alone, without reading the todo, once the answer is recorded).
   */
  private readonly held = new Map<string, HeldEvent>();
  /** Told the time of each retry this process schedules (the dispatcher wakes up for it). */
  onRetryScheduled?: (at: Date) => void;

  constructor(
    private readonly repository: OutboxRepository,
    private readonly eventApi: EventApiClient,
    config: ConfigService<TodoConfig, true>,
    @InjectMetric(OUTBOX_DELIVERIES_METRIC) private readonly deliveries: Counter<'result'>,
  ) {
    this.settings = config.getOrThrow('outbox', { infer: true });
  }

  /** When the dispatcher may take over an event whose completing request is delivering it now. */
  takeOverAt(now: Date): Date {
    return new Date(now.getTime() + this.settings.leaseMs);
  }

  /**
   * Waits (bounded by the lease time) while another claimant holds the lease of `eventId`, e.g.
   * a concurrent completion of the same todo delivering it right now. When the holder is in this
   * process, waits for its release without polling.
   */
  async awaitRelease(eventId: string): Promise<void> {
    const deadline = Date.now() + this.settings.leaseMs;
    // A lease is usually released within milliseconds; a longer wait polls less and less often.
    let pause = 20;
    for (;;) {
      const local = this.held.get(eventId);
      if (local) {
        await local.released;
        return;
      }
      if (Date.now() >= deadline || !(await this.repository.leaseHeld(eventId, new Date()))) {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 500);
    }
  }

  private newLease(): Lease {
    this.leases += 1;
    return {
      holder: `${this.instanceId}#${this.leases}`,
      until: new Date(Date.now() + this.settings.leaseMs),
    };
  }

  /** Claims `eventId` in this process (undefined when a request or receipt here has it already). */
  private hold(eventId: string): { event: HeldEvent; release: () => void } | undefined {
    if (this.held.has(eventId)) {
      return undefined;
    }
    let release!: () => void;
    const event: HeldEvent = { receipts: [], released: new Promise<void>((resolve) => (release = resolve)) };
    this.held.set(eventId, event);
    return { event, release };
  }

  /** Records the receipts handed over meanwhile, then gives the claim (and the lease document, if any) up. */
  private async letGo(
    eventId: string,
    claim: { event: HeldEvent; release: () => void },
    releaseLease?: () => Promise<void>,
  ): Promise<void> {
    try {
      // None can be added between the last check and the removal from `held`: no await in between.
      while (claim.event.receipts.length > 0) {
        await this.recordWaiting(eventId, claim.event);
      }
    } finally {
      this.held.delete(eventId);
      await releaseLease?.().catch(() => undefined);
      claim.release();
    }
  }

  /**
   * Runs `work` while holding the lease of `eventId`: an insert keyed by the event id that only
   * one claimant (request, receipt or dispatcher, on any replica) wins. `acquired: false` when
   * another holds it.
   */
  async withLease<T>(
    eventId: string,
    work: (lease: Lease) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    if (this.held.has(eventId)) {
      return { acquired: false };
    }
    const lease = this.newLease();
    if (!(await this.repository.acquireLease(eventId, lease.holder, new Date(), lease.until))) {
      return { acquired: false };
    }
    const releaseLease = () => this.repository.releaseLease(eventId, lease.holder);
    const claim = this.hold(eventId);
    if (!claim) {
      // A first completion here claimed it during the insert.
      await releaseLease().catch(() => undefined);
      return { acquired: false };
    }
    try {
      return { acquired: true, value: await work(lease) };
    } finally {
      await this.letGo(eventId, claim, releaseLease);
    }
  }

  /**
   * Runs the first completion of an event: claimed in this process only, without a lease
   * document, because its write decides between replicas (conditional on the todo having no event
   * yet, it names the holder and until when in the todo, where receipts and the dispatcher see it).
   */
  async withFirstCompletion<T>(
    eventId: string,
    work: (lease: Lease) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    const claim = this.hold(eventId);
    if (!claim) {
      return { acquired: false };
    }
    try {
      return { acquired: true, value: await work(this.newLease()) };
    } finally {
      await this.letGo(eventId, claim);
    }
  }

  /** Hands a receipt to this process's holder of the event's lease, if any. */
  private handOver(eventId: string, acknowledgedAt: Date): Promise<ReceiptResult> | undefined {
    const event = this.held.get(eventId);
    return event
      ? new Promise<ReceiptResult>((resolve, reject) =>
          event.receipts.push({ acknowledgedAt, resolve, reject }),
        )
      : undefined;
  }

  /**
   * Records the receipts handed over for `event` (the caller holds its lease). A failure is the
   * receipts' own: they are rejected with it, and the caller goes on releasing the event.
   */
  private async recordWaiting(eventId: string, event: HeldEvent): Promise<void> {
    const waiting = event.receipts.splice(0);
    const accepted = event.accepted;
    await this.settle(waiting, () =>
      accepted
        ? this.acked(accepted, waiting[0].acknowledgedAt)
        : this.markReceipt(eventId, waiting[0].acknowledgedAt),
    ).catch(() => undefined);
  }

  /** Marks `doc`'s event acked (the caller holds its lease and knows the todo). */
  private async acked(doc: TodoRecord, acknowledgedAt: Date): Promise<ReceiptResult> {
    const changed = await this.repository.markAcked(doc._id, doc.downstream!.eventId, acknowledgedAt);
    return changed ? receiptOf(doc) : null;
  }

  /**
   * Takes the lease of `doc`'s pending event and delivers it once, then releases the lease.
   * Resolves with the outcome, or undefined when another claimant holds the event or it is no
   * longer pending. Never throws for a gateway failure.
   */
  async dispatch(doc: TodoRecord): Promise<DeliveryOutcome | undefined> {
    const eventId = doc.downstream?.eventId;
    if (!eventId || doc.downstream?.status !== 'pending') {
      return undefined;
    }
    const result = await this.withLease(eventId, async (lease) => {
      // Read again under the lease: another replica may have delivered it in the meantime.
      const fresh = await this.repository.findEvent(doc._id, eventId);
      return fresh ? this.deliverHeld(fresh, lease) : undefined;
    });
    return result.acquired ? result.value : undefined;
  }

  /** Delivers `doc`'s event if it is still pending; the caller holds `lease`. */
  async deliverHeld(doc: TodoRecord, lease: Lease): Promise<DeliveryOutcome | undefined> {
    if (doc.downstream?.status !== 'pending') {
      return undefined;
    }
    await this.repository.recordHolder(doc._id, doc.downstream.eventId, lease.holder, lease.until);
    return this.deliver(doc);
  }

  /**
   * Delivers the event `doc` got from `startCompletion` just now, whose write already named the
   * caller as its holder.
   */
  deliverStarted(doc: TodoRecord): Promise<DeliveryOutcome | undefined> {
    return doc.downstream?.status === 'pending' ? this.deliver(doc) : Promise.resolve(undefined);
  }

  /** One delivery attempt of `doc`'s event; the caller holds its lease. Never throws for a gateway failure. */
  private async deliver(doc: TodoRecord): Promise<DeliveryOutcome> {
    const downstream = doc.downstream!;
    const data: TodoJson = toTodoResponse(doc);
    try {
      const accepted = await this.eventApi.postUserEvent(doc.userid, {
        id: downstream.eventId,
        type: TODO_COMPLETED_EVENT,
        data,
      });
      const status = accepted.delivered > 0 ? 'delivered' : 'stored';
      const event = this.held.get(downstream.eventId);
      const waiting = event?.receipts.splice(0) ?? [];
      if (waiting.length > 0) {
        // The user acknowledged the event before the gateway's answer came back: one write
        // records both (acked is past delivered).
        await this.settle(waiting, () => this.acked(doc, waiting[0].acknowledgedAt));
      } else {
        await this.repository.markAccepted(doc._id, downstream.eventId, status);
        if (event) {
          event.accepted = doc;
        }
      }
      this.deliveries.inc({ result: status });
      return status;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const attempts = (downstream.attempts ?? 0) + 1;
      const delay = computeBackoff(attempts, this.settings.baseBackoffMs, this.settings.maxBackoffMs);
      this.deliveries.inc({ result: 'failed' });
      this.logger.warn(
        `event ${downstream.eventId} of todo ${doc.todoid}: attempt ${attempts} failed (${message}); next in ${delay} ms`,
      );
      const retryAt = new Date(Date.now() + delay);
      // Told first: should the write fail too, the event is still pending and due by then.
      this.onRetryScheduled?.(retryAt);
      await this.repository.markFailed(doc._id, downstream.eventId, retryAt, message);
      return 'pending';
    }
  }

  /**
   * Runs the write that records `waiting[0]` (the first decides; any other is a duplicate of an
   * acknowledged event), and answers every waiting receipt with its outcome or its failure.
   */
  private async settle(waiting: WaitingReceipt[], record: () => Promise<ReceiptResult>): Promise<void> {
    try {
      const result = await record();
      waiting[0].resolve(result);
      for (const duplicate of waiting.slice(1)) {
        duplicate.resolve(null);
      }
    } catch (error) {
      for (const receipt of waiting) {
        receipt.reject(error);
      }
      throw error;
    }
  }

  findDue(limit: number): Promise<TodoRecord[]> {
    return this.repository.findDue(new Date(), limit);
  }

  /**
   * Records a user's acknowledgement. Returns the todo's completion time when this call moved the
   * status to `acked`, null when the event is unknown or was acked already.
   */
  async recordReceipt(eventId: string, acknowledgedAt: Date): Promise<ReceiptResult> {
    // Under the event's lease, like deliveries: a delivery in flight records its outcome first, so
    // the two writes never interleave (a conditional update is not atomic on every MongoDB-protocol
    // server, and a late `delivered` must not overwrite `acked`). When this process holds the
    // event, its holder records the receipt; a first completion delivering it in another process
    // shows in the todo (pending, locked) and is waited for; a lease or lock left by a dead holder
    // expires.
    const handed = this.handOver(eventId, acknowledgedAt);
    if (handed) {
      return handed;
    }
    // The usual case otherwise: the event was accepted and its delivery is over, so nothing can
    // write its status concurrently but another receipt; one conditional write records it.
    const key = todoKeyOfEvent(eventId);
    const accepted = key ? await this.repository.markAckedIfAccepted(key, eventId, acknowledgedAt) : null;
    if (accepted) {
      return receiptOf(accepted);
    }
    const deadline = Date.now() + 2 * this.settings.leaseMs;
    let pause = 20;
    while (Date.now() < deadline) {
      const waiting = this.handOver(eventId, acknowledgedAt);
      if (waiting) {
        return waiting;
      }
      const held = await this.withLease(eventId, () => this.markReceipt(eventId, acknowledgedAt, true));
      if (held.acquired && held.value !== DELIVERING) {
        return held.value;
      }
      if (held.acquired) {
        await new Promise((resolve) => setTimeout(resolve, pause));
        pause = Math.min(pause * 2, 500);
      } else {
        await this.awaitRelease(eventId);
      }
    }
    return this.markReceipt(eventId, acknowledgedAt);
  }

  /**
   * Marks the event acked, unless (`waitForDelivery`) another process is delivering it now: then
   * DELIVERING, and nothing written.
   */
  private async markReceipt(eventId: string, acknowledgedAt: Date): Promise<ReceiptResult>;
  private async markReceipt(
    eventId: string,
    acknowledgedAt: Date,
    waitForDelivery: true,
  ): Promise<ReceiptResult | typeof DELIVERING>;
  private async markReceipt(
    eventId: string,
    acknowledgedAt: Date,
    waitForDelivery = false,
  ): Promise<ReceiptResult | typeof DELIVERING> {
    const key = todoKeyOfEvent(eventId);
    // Ids of another shape (none are minted now) are looked up on the `downstream.eventId` index.
    const doc = key
      ? await this.repository.findEvent(key, eventId)
      : await this.repository.findByEventId(eventId);
    if (!doc) {
      return null;
    }
    const { status, lockedUntil } = doc.downstream ?? {};
    if (
      waitForDelivery &&
      status === 'pending' &&
      lockedUntil &&
      new Date(lockedUntil).getTime() > Date.now()
    ) {
      return DELIVERING;
    }
    return this.acked(doc, acknowledgedAt);
  }
}
