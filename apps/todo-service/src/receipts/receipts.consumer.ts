import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type Redis from 'ioredis';
import type { Histogram } from 'prom-client';
import { RECEIPTS_GROUP, RECEIPTS_STREAM, TODO_COMPLETED_EVENT } from '@app/contracts';
import { RedisService } from '@app/redis';
import type { TodoConfig } from '../config/todo.config';
import { OutboxService } from '../outbox/outbox.service';
import { parseReceiptFields } from './receipt-entry';

export const ACK_LATENCY_METRIC = 'todo_completion_ack_seconds';

type StreamEntry = [id: string, fields: string[]];

const BLOCK_MS = 1_000;
const BATCH = 100;
/**
 * Receipts being recorded at once by one process (each is a few MongoDB operations, and one waiting
 * for its event's lease polls it): enough to not queue behind a waiting one, few enough to leave
 * MongoDB to the completions.
 */
const MAX_IN_FLIGHT = 32;

/**
 * Consumes delivery receipts the gateway appends to the Redis stream RECEIPTS_STREAM, with the
 * consumer group RECEIPTS_GROUP: records each on its todo (status `acked`), then XACKs it. An entry
 * is acknowledged only once recorded; entries left by a consumer that died are reclaimed (XAUTOCLAIM).
 *
 * Receipts are recorded concurrently (up to MAX_IN_FLIGHT), while the loop goes on reading: each is
 * for one event and idempotent, and one may wait for its event's lease — the completing request
 * still recording the delivery, which is common at a steady rate since users ack within
 * milliseconds. Recorded one after the other, every receipt behind such a one waited too, and at
 * 100 completions per second the backlog only grew.
 */
@Injectable()
export class ReceiptsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ReceiptsConsumer.name);
  /** Unique per process, so a restarted process never mistakes another's pending entries for its own. */
  readonly consumerName = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly claimIdleMs: number;
  private blocking?: Redis;
  private stopped = false;
  private running?: Promise<void>;
  private groupReady = false;
  private nextClaimAt = 0;
  private nextPruneAt = 0;
  private lastErrorLog = 0;
  /** Receipts being recorded, by stream entry id (a reclaim may return one of them again). */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** The first failure of a receipt recorded in the background, rethrown to the loop (backoff). */
  private failure?: Error;

  constructor(
    private readonly redis: RedisService,
    private readonly outbox: OutboxService,
    config: ConfigService<TodoConfig, true>,
    @InjectMetric(ACK_LATENCY_METRIC) private readonly ackLatency: Histogram<string>,
  ) {
    this.claimIdleMs = config.getOrThrow('receipts.claimIdleMs', { infer: true });
  }

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.blocking = this.redis.connect('receipts');
    this.running = this.loop();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    // Ends a blocking XREADGROUP at once; unacknowledged entries stay pending for another consumer.
    this.blocking?.disconnect();
    await this.running;
    await Promise.allSettled(this.inFlight.values());
  }

  private async loop(): Promise<void> {
    let backoff = 100;
    while (!this.stopped) {
      try {
        await this.ensureGroup();
        if (Date.now() >= this.nextClaimAt) {
          await this.reclaim();
          this.nextClaimAt = Date.now() + Math.max(100, Math.floor(this.claimIdleMs / 2));
        }
        if (Date.now() >= this.nextPruneAt) {
          await this.pruneDepartedConsumers();
          this.nextPruneAt = Date.now() + this.departedAfterMs();
        }
        await this.readNew();
        backoff = 100;
      } catch (error) {
        if (this.stopped) {
          break;
        }
        const message = error instanceof Error ? error.message : String(error);
        if (message.includes('NOGROUP')) {
          // Redis lost the stream (restart without persistence): create the group again.
          this.groupReady = false;
        }
        if (Date.now() - this.lastErrorLog > 10_000) {
          this.lastErrorLog = Date.now();
          this.logger.warn(`receipts: ${message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, 2_000);
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    if (this.groupReady) {
      return;
    }
    try {
      // From the start of the stream: receipts written before the group existed are not lost.
      // ioredis does not apply the key prefix to XGROUP (its key sits after a subcommand): add it here.
      await this.redis.client.xgroup(
        'CREATE',
        this.redis.prefixed(RECEIPTS_STREAM),
        RECEIPTS_GROUP,
        '0',
        'MKSTREAM',
      );
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('BUSYGROUP')) {
        throw error;
      }
    }
    this.groupReady = true;
  }

  private async readNew(): Promise<void> {
    const connection = this.blocking;
    if (!connection) {
      return;
    }
    const result = (await connection.xreadgroup(
      'GROUP',
      RECEIPTS_GROUP,
      this.consumerName,
      'COUNT',
      BATCH,
      'BLOCK',
      BLOCK_MS,
      'STREAMS',
      RECEIPTS_STREAM,
      '>',
    )) as Array<[string, StreamEntry[]]> | null;
    for (const [, entries] of result ?? []) {
      await this.process(entries);
    }
  }

  /** Takes over entries another (dead) consumer read but never acknowledged, and retries this one's own. */
  private async reclaim(): Promise<void> {
    let cursor = '0-0';
    for (let round = 0; round < 100 && !this.stopped; round += 1) {
      const [next, entries] = (await this.redis.client.xautoclaim(
        RECEIPTS_STREAM,
        RECEIPTS_GROUP,
        this.consumerName,
        this.claimIdleMs,
        cursor,
        'COUNT',
        BATCH,
      )) as [string, Array<StreamEntry | null>, ...unknown[]];
      await this.process(
        entries.filter((entry): entry is StreamEntry => Array.isArray(entry) && Array.isArray(entry[1])),
      );
      if (next === '0-0') {
        return;
      }
      cursor = next;
    }
  }

  /**
   * A consumer silent this long has gone: a live one reads (or blocks) every BLOCK_MS. Removing a
   * live one by mistake would cost nothing either: it holds no pending entry, and its next read
   * adds it back.
   */
  private departedAfterMs(): number {
    return 10 * Math.max(this.claimIdleMs, BLOCK_MS / 10);
  }

  /**
   * Every process joins the group under a new name, so the names of stopped processes would pile up
   * in the group for ever. A consumer that has been silent for `departedAfterMs` and holds no pending
   * entry (reclaim moves those to a live consumer first) is removed; removing it loses nothing.
   */
  private async pruneDepartedConsumers(): Promise<void> {
    // Like XGROUP, XINFO has its key after a subcommand: ioredis does not prefix it.
    const key = this.redis.prefixed(RECEIPTS_STREAM);
    const consumers = (await this.redis.client.xinfo('CONSUMERS', key, RECEIPTS_GROUP)) as unknown[][];
    for (const fields of consumers) {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < fields.length; i += 2) {
        info.set(String(fields[i]), fields[i + 1]);
      }
      const name = String(info.get('name'));
      if (
        name !== this.consumerName &&
        Number(info.get('pending')) === 0 &&
        Number(info.get('idle')) >= this.departedAfterMs()
      ) {
        await this.redis.client.xgroup('DELCONSUMER', key, RECEIPTS_GROUP, name);
      }
    }
  }

  /**
   * Starts recording each entry (waiting only while MAX_IN_FLIGHT are being recorded), and throws
   * the first failure of an earlier one, if any, so that the loop backs off while MongoDB is down.
   */
  private async process(entries: StreamEntry[]): Promise<void> {
    for (const [id, fields] of entries) {
      if (this.inFlight.has(id)) {
        continue;
      }
      while (this.inFlight.size >= MAX_IN_FLIGHT) {
        await Promise.race(this.inFlight.values());
      }
      const task = this.processOne(id, fields)
        .catch((error: unknown) => {
          // The entry stays pending and is retried via reclaim.
          this.failure ??= error instanceof Error ? error : new Error(String(error));
        })
        .finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, task);
    }
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      throw failure;
    }
  }

  private async processOne(id: string, fields: string[]): Promise<void> {
    const receipt = parseReceiptFields(fields);
    if (receipt && (receipt.type === '' || receipt.type === TODO_COMPLETED_EVENT)) {
      const recorded = await this.outbox.recordReceipt(receipt.eventId, receipt.ackedDate);
      if (recorded?.completedAt) {
        this.ackLatency.observe(
          Math.max(0, (receipt.ackedDate.getTime() - recorded.completedAt.getTime()) / 1_000),
        );
      }
    }
    await this.redis.client.xack(RECEIPTS_STREAM, RECEIPTS_GROUP, id);
  }
}
