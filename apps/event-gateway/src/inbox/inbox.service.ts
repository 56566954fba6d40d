import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import DataLoader from 'dataloader';
import type { Counter } from 'prom-client';
import { type DownstreamEvent, RECEIPTS_STREAM, type UserEventAccepted } from '@app/contracts';
import { RedisService } from '@app/redis';
import type { GatewayConfig } from '../config/gateway.config';
import { METRIC_EVENTS_ACKED, METRIC_EVENTS_EXPIRED, METRIC_EVENTS_STORED } from '../metrics/gateway.metrics';
import { ACK_SCRIPT, READ_SCRIPT, STORE_SCRIPT } from './inbox.scripts';

/** Receipts kept in the stream at most (approximately); the todo-service consumes them long before. */
export const RECEIPTS_MAX_LEN = 100_000;

/**
 * Acknowledgements recorded by one script call at most: a larger turn is split, so that Redis is
 * never busy with one call for long.
 */
export const ACK_BATCH_MAX = 256;
/** Events stored by one script call at most (same reason). */
export const STORE_BATCH_MAX = 128;
/**
 * An event larger than this (its JSON, in characters) is stored by a call of its own: a batch never
 * carries more than a few MiB, however large the events of a turn (the Event API takes 2 MiB each).
 */
const STORE_ALONE_CHARS = 64 * 1024;

/** The client commands of the two batch scripts. */
const STORE_COMMAND = 'gatewayInboxStoreBatch';
const ACK_COMMAND = 'gatewayInboxAckBatch';

/** An acknowledgement waiting for the end of its turn of the event loop. */
interface QueuedAck {
  userid: string;
  id: string;
  type: string;
  ackedAt: string;
}

/** An event to store, waiting for the end of its turn of the event loop. */
interface QueuedStore {
  event: DownstreamEvent & { userid: string };
  json: string;
  targets: AppendTargets;
}

/**
 * A DataLoader that batches what arrives in one turn of the event loop (every client packet or
 * request read in one poll): its batch runs at `setImmediate`, in arrival order, at most `max` per
 * batch. No cache: every call is its own item.
 */
function perTurn<K, V>(
  batch: (items: readonly K[]) => Promise<(V | Error)[]>,
  max: number,
): DataLoader<K, V> {
  return new DataLoader<K, V>(batch, {
    cache: false,
    maxBatchSize: max,
    batchScheduleFn: (run) => setImmediate(run),
  });
}

export interface PendingEvent {
  seq: number;
  event: DownstreamEvent;
}

export type StoreResult =
  | { stored: true; seq: number; delivered: number }
  | { stored: false; previous: UserEventAccepted | undefined };

/** Where `append` announces a stored event, and whose sockets it counts for the answer. */
export interface AppendTargets {
  /** The pub/sub channel of announcements, with the key prefix (ioredis prefixes keys, not channels). */
  channel: string;
  /** The registry SET of the user's socket ids (a key: ioredis prefixes it). */
  socketsKey: string;
}

type ScriptRunner = (...args: (string | number)[]) => Promise<unknown>;

/**
 * The per-user inbox in Redis: events wait there, in the order they were posted, until a client of
 * their user acknowledges them (or retention / the size limit drops them).
 */
@Injectable()
export class InboxService {
  private readonly retentionSeconds: number;
  private readonly max: number;
  private readonly store: ScriptRunner;
  private readonly read: ScriptRunner;
  private readonly ack: ScriptRunner;
  private readonly acks = perTurn<QueuedAck, boolean>((batch) => this.recordAcks(batch), ACK_BATCH_MAX);
  private readonly stores = perTurn<QueuedStore, StoreResult>(
    (batch) => this.storeBatch(batch),
    STORE_BATCH_MAX,
  );

  constructor(
    private readonly redis: RedisService,
    config: ConfigService<GatewayConfig, true>,
    @InjectMetric(METRIC_EVENTS_STORED) private readonly storedCounter: Counter,
    @InjectMetric(METRIC_EVENTS_EXPIRED) private readonly expiredCounter: Counter,
    @InjectMetric(METRIC_EVENTS_ACKED) private readonly ackedCounter: Counter,
  ) {
    const settings = config.getOrThrow('gateway', { infer: true });
    this.retentionSeconds = settings.retentionSeconds;
    this.max = settings.inboxMax;
    this.store = this.script(STORE_COMMAND, undefined, STORE_SCRIPT);
    this.read = this.script('gatewayInboxRead2', 4, READ_SCRIPT);
    this.ack = this.script(ACK_COMMAND, undefined, ACK_SCRIPT);
    // Each call carries a whole turn's batch already: written at once, not gathered for the next turn.
    redis.sendAtOnce(STORE_COMMAND, ACK_COMMAND);
  }

  /** A Lua script as a command of the client; without `numberOfKeys`, the first argument is the key count. */
  private script(name: string, numberOfKeys: number | undefined, lua: string): ScriptRunner {
    const client = this.redis.client as unknown as Record<string, ScriptRunner | undefined>;
    if (typeof client[name] !== 'function') {
      this.redis.client.defineCommand(name, { numberOfKeys, lua });
    }
    return (...args) => (client[name] as ScriptRunner).apply(this.redis.client, args);
  }

  private keys(userid: string): [string, string, string] {
    return [`inbox:${userid}`, `inbox:${userid}:events`, `inbox:${userid}:times`];
  }

  /** The last sequence number handed out for the user. */
  private nextKey(userid: string): string {
    return `inbox:${userid}:next`;
  }

  private idempotencyKey(userid: string, id: string): string {
    return `event-id:${userid}:${id}`;
  }

  /**
   * Stores `event` at the end of its user's inbox, unless its id was posted for that user before;
   * in the same atomic step announces it on `targets.channel`, counts the user's sockets and records
   * the answer for a retry of the same id.
   *
   * The events posted in one turn of the event loop are stored by one script call when the turn
   * ends, in the order they were posted (as acknowledgements are: one Redis command for many POSTs
   * under load). A failure of one event's store (say, a key of the wrong type) fails that POST only.
   */
  append(event: DownstreamEvent & { userid: string }, targets: AppendTargets): Promise<StoreResult> {
    const item: QueuedStore = { event, json: JSON.stringify(event), targets };
    if (item.json.length > STORE_ALONE_CHARS) {
      return this.storeBatch([item]).then(([result]) =>
        result instanceof Error ? Promise.reject(result) : result,
      );
    }
    return this.stores.load(item);
  }

  private async storeBatch(batch: readonly QueuedStore[]): Promise<(StoreResult | Error)[]> {
    const keys: string[] = [];
    const args: (string | number)[] = [this.retentionSeconds, this.max];
    for (const { event, json, targets } of batch) {
      keys.push(
        ...this.keys(event.userid),
        this.nextKey(event.userid),
        this.idempotencyKey(event.userid, event.id),
        targets.socketsKey,
      );
      args.push(event.id, json, Date.parse(event.createdAt), targets.channel, event.userid);
    }
    const replies = (await this.store(keys.length, ...keys, ...args)) as (number | string)[];
    let stored = 0;
    let expired = 0;
    const results = batch.map((_, index): StoreResult | Error => {
      const [outcome, value, trimmed, delivered] = replies.slice(index * 4, index * 4 + 4);
      if (typeof outcome === 'string') {
        return new Error(`event not stored: ${outcome}`);
      }
      expired += Number(trimmed);
      if (outcome === 1) {
        stored += 1;
        return { stored: true, seq: Number(value), delivered: Number(delivered) };
      }
      const previous = JSON.parse(String(value)) as Partial<UserEventAccepted>;
      return {
        stored: false,
        previous: typeof previous.id === 'string' ? (previous as UserEventAccepted) : undefined,
      };
    });
    if (stored > 0) {
      this.storedCounter.inc(stored);
    }
    this.countExpired(expired);
    return results;
  }

  /**
   * Events of `userid` after sequence number `after`, oldest first, and the last sequence number
   * handed out (when `events` is empty, nothing up to `last` will ever be pending again).
   */
  async pending(
    userid: string,
    after: number,
    limit: number,
  ): Promise<{ events: PendingEvent[]; last: number }> {
    const [expired, last, ...rest] = (await this.read(
      ...this.keys(userid),
      this.nextKey(userid),
      after,
      limit,
      Date.now(),
      this.retentionSeconds,
    )) as [number, string, ...string[]];
    this.countExpired(expired);
    const events: PendingEvent[] = [];
    for (let i = 0; i + 1 < rest.length; i += 2) {
      events.push({ seq: Number(rest[i]), event: JSON.parse(rest[i + 1]) as DownstreamEvent });
    }
    return { events, last: Number(last) };
  }

  /** The last sequence number handed out for each user, in one round trip. */
  async lastSeqs(userids: string[]): Promise<Map<string, number>> {
    const result = new Map<string, number>();
    if (userids.length === 0) {
      return result;
    }
    const values = await this.redis.client.mget(...userids.map((userid) => this.nextKey(userid)));
    userids.forEach((userid, index) => result.set(userid, Number(values[index] ?? 0)));
    return result;
  }

  /** The last sequence number handed out for `userid` (0 if none). */
  async lastSeq(userid: string): Promise<number> {
    return Number((await this.redis.client.get(this.nextKey(userid))) ?? 0);
  }

  /** How many events wait for `userid`. */
  async size(userid: string): Promise<number> {
    return this.redis.client.zcard(`inbox:${userid}`);
  }

  /**
   * Removes an acknowledged event and appends its delivery receipt to RECEIPTS_STREAM in one atomic
   * step. Returns false when the event was already gone (acknowledged by another socket).
   *
   * The acknowledgements that arrive in one turn of the event loop (the client packets read in one
   * poll) are recorded by one script call when the turn ends, in the order they arrived: under load
   * that is one command, one reply and one promise of the Redis client for many events instead of
   * one each. An acknowledgement waits at most for the rest of its turn.
   */
  acknowledge(event: DownstreamEvent & { userid: string }, ackedAt: Date): Promise<boolean> {
    return this.acks.load({
      userid: event.userid,
      id: event.id,
      type: event.type,
      ackedAt: ackedAt.toISOString(),
    });
  }

  private async recordAcks(batch: readonly QueuedAck[]): Promise<(boolean | Error)[]> {
    const keys: string[] = [RECEIPTS_STREAM];
    const args: (string | number)[] = [RECEIPTS_MAX_LEN];
    for (const ack of batch) {
      keys.push(...this.keys(ack.userid));
      args.push(ack.id, ack.userid, ack.type, ack.ackedAt);
    }
    const replies = (await this.ack(keys.length, ...keys, ...args)) as (number | string)[];
    let removed = 0;
    const results = replies.map((reply) => {
      if (typeof reply === 'string') {
        return new Error(`acknowledgement not recorded: ${reply}`);
      }
      removed += reply === 1 ? 1 : 0;
      return reply === 1;
    });
    if (removed > 0) {
      this.ackedCounter.inc(removed);
    }
    return results;
  }

  private countExpired(expired: number): void {
    if (expired > 0) {
      this.expiredCounter.inc(expired);
    }
  }
}
