import { Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type Redis from 'ioredis';
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { Server, Socket } from 'socket.io';
import { DOWNSTREAM_EVENT, type DownstreamEvent } from '@app/contracts';
import { RedisService } from '@app/redis';
import { REVOCATION_CHANNEL } from '@app/tokens';
import type { GatewayConfig } from '../config/gateway.config';
import { InboxService, type PendingEvent } from '../inbox/inbox.service';
import {
  METRIC_CONNECTED_SOCKETS,
  METRIC_DELIVERY_LATENCY,
  METRIC_EVENTS_EMITTED,
  METRIC_EVENTS_REPLAYED,
  METRIC_EVENTS_RETRIED,
} from '../metrics/gateway.metrics';
import { ClientRegistryService } from '../registry/client-registry.service';
import type { SocketUser } from './socket-auth.service';

/** Pub/sub channel (before the key prefix) announcing "user X has new events in the inbox". */
export const INBOX_CHANNEL = 'gateway:inbox';
/** Pub/sub channel (before the key prefix) carrying broadcasts to every replica. */
export const BROADCAST_CHANNEL = 'gateway:broadcast';
/** Events emitted to one socket and not yet acknowledged (or timed out), at most. */
export const DELIVERY_WINDOW = 100;
/** Announced events buffered per socket at most; beyond, the socket reads them from the inbox. */
const MAX_ANNOUNCED = 1_000;
/**
 * Users whose last sequence number one MGET of the safety-net poll reads. The poll covers every local
 * user each heartbeat, but in slices: one MGET of 10,000 keys kept the event loop busy for ~160 ms
 * (building, writing and parsing it), which was the p99 of every emit that arrived meanwhile.
 */
const POLL_SLICE = 500;
/** How often token expiries are checked: a socket is disconnected at most this late. */
const EXPIRY_CHECK_MS = 1_000;
/** socket.io-parser's PacketType.EVENT (the parser is socket.io's dependency, not ours). */
const EVENT_PACKET = 2;

/** A stored event (seq + event), or a bare nudge for a user (read the inbox). */
interface Announcement {
  seq?: number;
  event?: DownstreamEvent & { userid: string };
  userid?: string;
}

/** The room every socket of a user joins. */
export const userRoom = (userId: string): string => `user:${userId}`;

/** The user and current token of a socket: its `socket.data` (one shared timer checks `exp`). */
const userOf = (socket: Socket): SocketUser => socket.data as SocketUser;

/**
 * What this replica keeps per connected socket. Kept small on purpose (a pod holds tens of
 * thousands of mostly idle sockets): no timer and no closure per socket, the user is read from
 * `socket.data`, and the `announced` buffer exists only while events are in transit. A class, so
 * that every record has the same compact layout (an object literal whose `announced` was added
 * later took 112 bytes in heap snapshots).
 */
class Delivery {
  /** Sequence number of the last event emitted to this socket. */
  cursor = 0;
  /** Events up to this sequence number were waiting when the socket connected (counted as replayed). */
  replayUntil = 0;
  /**
   * The highest sequence number this socket has heard of (inbox reads, announcements, polls). While
   * the cursor is there and `mustRead` is false, there is nothing to read: an ack then costs no read.
   */
  knownLast = 0;
  /** Read the inbox on the next run whatever knownLast says (connect, resubscription). */
  mustRead = true;
  inFlight = 0;
  /** Incremented each time the cursor moves back after a timeout (see emit). */
  epoch = 0;
  /** Events announced by a POST, by sequence number, not yet emitted to this socket (created on demand). */
  announced: Map<number, DownstreamEvent> | undefined = undefined;
  running = false;
  again = false;
  closed = false;

  constructor(readonly socket: Socket) {}

  /** Everything this socket has heard of was emitted, and nothing asks for an inbox read. */
  get caughtUp(): boolean {
    return !this.mustRead && this.cursor >= this.knownLast;
  }

  get user(): SocketUser {
    return userOf(this.socket);
  }
}

/**
 * Durable per-user delivery. Every socket of this replica has a delivery loop that reads its user's
 * inbox in order, from its own cursor, and emits each event with an acknowledgement and a timeout:
 *
 * - on connect the cursor starts at 0, so the pending events are replayed in order before new ones;
 * - a POST stores the event in the inbox and announces it on INBOX_CHANNEL; every replica wakes
 *   the loops of that user's local sockets (and, on each registry heartbeat, those whose cursor is
 *   behind their user's last sequence number, in case an announcement was lost);
 * - an acknowledgement removes the event from the inbox and appends a receipt, atomically;
 * - an event not acknowledged in time stays in the inbox: it is sent again on the same socket (the
 *   cursor moves back before it) and replayed on the next connect.
 *
 * Acks stay local to the replica holding the socket, and order is the inbox order.
 */
@Injectable()
export class DeliveryService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryService.name);
  private readonly deliveries = new Map<string, Delivery>();
  /** The local sockets of each user. */
  private readonly byUser = new Map<string, Delivery[]>();
  private readonly ackTimeoutMs: number;
  private readonly inboxChannel: string;
  private readonly broadcastChannel: string;
  private readonly revocationChannel: string;
  private subscriber?: Redis;
  private server?: Server;
  private closing = false;
  private polling = false;
  /** The one timer that disconnects sockets at their token's expiry (instead of a timer per socket). */
  private expiryTimer?: NodeJS.Timeout;
  /** No token of a local socket expires before this (ms since the epoch): until then a check is a comparison. */
  private nextExpiryMs = Number.POSITIVE_INFINITY;
  /** The two series of METRIC_EVENTS_EMITTED, looked up once rather than per event. */
  private readonly emittedToUser: { inc(value?: number): void };
  private readonly emittedInBroadcast: { inc(value?: number): void };

  constructor(
    private readonly redis: RedisService,
    private readonly inbox: InboxService,
    private readonly registry: ClientRegistryService,
    config: ConfigService<GatewayConfig, true>,
    @InjectMetric(METRIC_CONNECTED_SOCKETS) private readonly connectedGauge: Gauge,
    @InjectMetric(METRIC_EVENTS_EMITTED) emittedCounter: Counter<'kind'>,
    @InjectMetric(METRIC_EVENTS_REPLAYED) private readonly replayedCounter: Counter,
    @InjectMetric(METRIC_EVENTS_RETRIED) private readonly retriedCounter: Counter,
    @InjectMetric(METRIC_DELIVERY_LATENCY) private readonly latency: Histogram,
  ) {
    this.ackTimeoutMs = config.getOrThrow('gateway.ackTimeoutMs', { infer: true });
    this.inboxChannel = redis.prefixed(INBOX_CHANNEL);
    this.broadcastChannel = redis.prefixed(BROADCAST_CHANNEL);
    this.revocationChannel = redis.prefixed(REVOCATION_CHANNEL);
    this.emittedToUser = emittedCounter.labels('user');
    this.emittedInBroadcast = emittedCounter.labels('broadcast');
  }

  async onModuleInit(): Promise<void> {
    const subscriber = this.redis.connect('gateway-notifications', { maxRetriesPerRequest: null });
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.inboxChannel) {
        this.onAnnouncement(message);
      } else if (channel === this.broadcastChannel) {
        this.onBroadcast(message);
      } else if (channel === this.revocationChannel) {
        this.disconnectToken(message);
      }
    });
    // After a reconnect ioredis resubscribes; events announced meanwhile are found by the polling.
    subscriber.on('ready', () => this.wakeAll());
    await subscriber.subscribe(this.inboxChannel, this.broadcastChannel, this.revocationChannel);
    this.registry.onHeartbeat = () => {
      this.pollAll().catch((error: unknown) => this.warn('inbox poll failed', error));
    };
    this.expiryTimer = setInterval(() => this.disconnectExpired(), EXPIRY_CHECK_MS);
    this.expiryTimer.unref();
  }

  /** The Socket.IO server of the default namespace (set by the gateway once it exists). */
  attachServer(server: Server): void {
    this.server = server;
  }

  /** The channel (prefixed) on which stored events are announced; InboxService publishes there when it stores. */
  get announcementChannel(): string {
    return this.inboxChannel;
  }

  /** Wakes the delivery loops of `userId` on every replica, which then read the inbox. */
  async nudge(userId: string): Promise<void> {
    const announcement: Announcement = { userid: userId };
    await this.redis.client.publish(this.inboxChannel, JSON.stringify(announcement));
  }

  private onAnnouncement(message: string): void {
    let announcement: Announcement;
    try {
      announcement = JSON.parse(message) as Announcement;
    } catch {
      return;
    }
    const userId = announcement.event?.userid ?? announcement.userid;
    if (typeof userId !== 'string') {
      return;
    }
    const seq = announcement.seq;
    for (const delivery of this.ofUser(userId)) {
      if (typeof seq === 'number') {
        delivery.knownLast = Math.max(delivery.knownLast, seq);
        if (announcement.event && seq > delivery.cursor) {
          delivery.announced ??= new Map();
          if (delivery.announced.size < MAX_ANNOUNCED) {
            delivery.announced.set(seq, announcement.event);
          }
        }
      } else {
        delivery.mustRead = true;
      }
      this.wake(delivery);
    }
  }

  /** Starts delivering to a freshly authenticated socket: registry entry, room, replay. */
  async connect(socket: Socket): Promise<void> {
    const user = userOf(socket);
    if (typeof user.userId !== 'string' || this.closing) {
      socket.disconnect(true);
      return;
    }
    const delivery = new Delivery(socket);
    this.deliveries.set(socket.id, delivery);
    const ofUser = this.byUser.get(user.userId);
    if (ofUser) {
      ofUser.push(delivery);
    } else {
      this.byUser.set(user.userId, [delivery]);
    }
    this.connectedGauge.set(this.deliveries.size);
    this.watchExpiry(user.exp);
    await socket.join(userRoom(user.userId));
    try {
      delivery.replayUntil = await this.inbox.lastSeq(user.userId);
      // A socket that left while this ran must not be registered after its removal.
      if (delivery.closed || this.closing) {
        return;
      }
      await this.registry.add(user.userId, socket.id);
    } catch (error) {
      this.warn(`could not register socket of ${user.userId}`, error);
    }
    this.wake(delivery);
  }

  /** Stops delivering to a socket that disconnected; its unacknowledged events stay in the inbox. */
  async disconnect(socket: Socket): Promise<void> {
    const delivery = this.deliveries.get(socket.id);
    if (!delivery) {
      return;
    }
    delivery.closed = true;
    delivery.announced = undefined;
    this.deliveries.delete(socket.id);
    this.unlinkFromUser(delivery);
    this.connectedGauge.set(this.deliveries.size);
    if (!this.closing) {
      try {
        await this.registry.remove(socket.id);
      } catch (error) {
        this.warn(`could not unregister socket of ${delivery.user.userId}`, error);
      }
    }
  }

  /**
   * A socket presented a fresh token for the same user: its expiry moves to the new token's.
   * Returns false (and changes nothing) when the token belongs to someone else.
   */
  renew(socket: Socket, user: SocketUser): boolean {
    const delivery = this.deliveries.get(socket.id);
    if (!delivery || delivery.user.userId !== user.userId) {
      return false;
    }
    const current = userOf(socket);
    current.jti = user.jti;
    current.exp = user.exp;
    this.watchExpiry(user.exp);
    return true;
  }

  /**
   * Broadcasts to every connected client on every replica; not stored. Every replica (this one
   * included) emits to its own sockets when the broadcast arrives on BROADCAST_CHANNEL, so two
   * broadcasts reach every socket in the order Redis received them, whichever replicas they were
   * posted to.
   */
  async broadcast(event: DownstreamEvent): Promise<void> {
    await this.redis.client.publish(this.broadcastChannel, JSON.stringify(event));
  }

  /**
   * Emits a broadcast to this replica's sockets of the default namespace. SPEC section 5: every
   * `downstream` is emitted with an acknowledgement callback, so the packet carries an ack id and a
   * client calls its callback as for any event. But nothing is stored for a broadcast, so there is
   * nothing to do with the acks: unlike `server.timeout().emit(…, cb)`, no ack is registered per
   * socket (no per-socket bookkeeping, no collection of every replica's acks over Redis, no timer);
   * socket.io drops an ack whose id it does not know. The id comes from the namespace's own counter,
   * as socket.io's broadcastWithAck takes it, so it never equals the id of a pending targeted emit.
   */
  private onBroadcast(message: string): void {
    const namespace = this.server?.sockets;
    if (!namespace || this.closing) {
      return;
    }
    let event: DownstreamEvent;
    try {
      event = JSON.parse(message) as DownstreamEvent;
    } catch {
      return;
    }
    const packet = { type: EVENT_PACKET, data: [DOWNSTREAM_EVENT, event], id: namespace._ids++ };
    // `local`: the other replicas emit it themselves (they got the same message).
    namespace.adapter.broadcast(packet, { rooms: new Set(), except: new Set(), flags: { local: true } });
    this.emittedInBroadcast.inc(namespace.sockets.size);
  }

  /** A copy of the local sockets of `userId` (a visit may disconnect one and unlink it). */
  private ofUser(userId: string): Delivery[] {
    return this.byUser.get(userId)?.slice() ?? [];
  }

  private unlinkFromUser(delivery: Delivery): void {
    const userId = delivery.user.userId;
    const rest = this.byUser.get(userId)?.filter((other) => other !== delivery) ?? [];
    if (rest.length > 0) {
      this.byUser.set(userId, rest);
    } else {
      this.byUser.delete(userId);
    }
  }

  /** Notes a token expiry to watch; the shared timer scans the sockets only once one is due. */
  private watchExpiry(exp: number): void {
    this.nextExpiryMs = Math.min(this.nextExpiryMs, exp * 1000);
  }

  /** Disconnects (after `token_expired`) every socket whose token has expired. */
  private disconnectExpired(): void {
    const now = Date.now();
    if (now < this.nextExpiryMs) {
      return;
    }
    let next = Number.POSITIVE_INFINITY;
    // Disconnecting removes the entry from the map: deleting during iteration is safe for a Map.
    for (const delivery of this.deliveries.values()) {
      const expMs = delivery.user.exp * 1000;
      if (expMs <= now) {
        delivery.socket.emit('token_expired');
        delivery.socket.disconnect(true);
      } else if (expMs < next) {
        next = expMs;
      }
    }
    this.nextExpiryMs = next;
  }

  private disconnectToken(jti: string): void {
    for (const delivery of this.deliveries.values()) {
      if (delivery.user.jti === jti) {
        delivery.socket.emit('token_revoked');
        delivery.socket.disconnect(true);
      }
    }
  }

  /**
   * The safety net for a lost announcement: MGETs of every local user's last sequence number (in
   * slices of POLL_SLICE), then only the sockets whose cursor is behind it read the inbox.
   */
  private async pollAll(): Promise<void> {
    if (this.polling) {
      return; // the previous heartbeat's poll is still running
    }
    this.polling = true;
    try {
      const userIds = [...this.byUser.keys()];
      for (let start = 0; start < userIds.length && !this.closing; start += POLL_SLICE) {
        const lasts = await this.inbox.lastSeqs(userIds.slice(start, start + POLL_SLICE));
        for (const [userId, last] of lasts) {
          for (const delivery of this.ofUser(userId)) {
            if (last > delivery.cursor) {
              delivery.knownLast = Math.max(delivery.knownLast, last);
              this.wake(delivery);
            }
          }
        }
      }
    } finally {
      this.polling = false;
    }
  }

  /** After a resubscription: announcements may have been missed, so every loop reads its inbox. */
  private wakeAll(): void {
    for (const delivery of this.deliveries.values()) {
      delivery.mustRead = true;
      this.wake(delivery);
    }
  }

  private wake(delivery: Delivery): void {
    if (delivery.closed) {
      return;
    }
    if (delivery.running) {
      delivery.again = true;
      return;
    }
    if (!delivery.announced && delivery.caughtUp) {
      // Nothing to emit (the usual wake-up after an ack): run would stop at once.
      return;
    }
    delivery.running = true;
    this.run(delivery).catch((error: unknown) =>
      this.warn(`delivery to ${delivery.user.userId} paused`, error),
    );
  }

  /**
   * Emits the user's events after the socket's cursor, in order, keeping at most DELIVERY_WINDOW
   * unacknowledged. `running` is cleared in the same synchronous step as the last look at `again`,
   * not by a handler of the returned promise (microtasks later): no wake-up can fall in between,
   * where it would set `again` for a run that has stopped looking.
   */
  private async run(delivery: Delivery): Promise<void> {
    try {
      do {
        delivery.again = false;
        while (!delivery.closed && delivery.inFlight < DELIVERY_WINDOW) {
          let batch = this.takeAnnounced(delivery);
          if (!batch) {
            if (delivery.caughtUp) {
              break;
            }
            delivery.mustRead = false;
            const read = await this.inbox.pending(
              delivery.user.userId,
              delivery.cursor,
              DELIVERY_WINDOW - delivery.inFlight,
            );
            batch = read.events;
            delivery.knownLast = Math.max(delivery.knownLast, read.last);
            if (batch.length === 0 && read.last > delivery.cursor && !delivery.closed) {
              // Everything up to `last` was acknowledged elsewhere or expired: skip the gap for good.
              delivery.cursor = read.last;
            }
          }
          if (batch.length === 0 || delivery.closed) {
            break;
          }
          for (const pending of batch) {
            this.emit(delivery, pending);
          }
          const announced = delivery.announced;
          if (announced) {
            for (const seq of announced.keys()) {
              if (seq <= delivery.cursor) {
                announced.delete(seq);
              }
            }
            if (announced.size === 0) {
              delivery.announced = undefined;
            }
          }
        }
      } while (delivery.again && !delivery.closed);
    } finally {
      delivery.running = false;
    }
  }

  /**
   * The announced events that directly follow the cursor (no Redis read needed), or undefined when
   * there is a gap: then the inbox is read, which also covers events whose announcement was missed.
   */
  private takeAnnounced(delivery: Delivery): PendingEvent[] | undefined {
    const announced = delivery.announced;
    if (!announced) {
      return undefined;
    }
    const taken: PendingEvent[] = [];
    let seq = delivery.cursor + 1;
    while (taken.length < DELIVERY_WINDOW - delivery.inFlight) {
      const event = announced.get(seq);
      if (!event) {
        break;
      }
      announced.delete(seq);
      taken.push({ seq, event });
      seq += 1;
    }
    return taken.length > 0 ? taken : undefined;
  }

  private emit(delivery: Delivery, { seq, event }: PendingEvent): void {
    delivery.cursor = seq;
    delivery.inFlight += 1;
    const epoch = delivery.epoch;
    this.emittedToUser.inc();
    if (seq <= delivery.replayUntil) {
      this.replayedCounter.inc();
    }
    delivery.socket.timeout(this.ackTimeoutMs).emit(DOWNSTREAM_EVENT, event, (error: Error | null) => {
      delivery.inFlight -= 1;
      if (error) {
        // No acknowledgement in time: the event stays in the inbox. While the socket is still
        // connected, the cursor moves back before it, so it (and the unacknowledged events after it)
        // are sent again, in order, after one more ACK_TIMEOUT_MS at the latest; clients dedupe by id.
        // Only the first timeout of a round rewinds: the others belong to events sent again anyway.
        if (!delivery.closed && epoch === delivery.epoch && delivery.cursor >= seq) {
          delivery.epoch += 1;
          delivery.cursor = seq - 1;
          delivery.announced = undefined;
          this.retriedCounter.inc();
        }
        this.wake(delivery);
        return;
      }
      const ackedAt = new Date();
      this.inbox.acknowledge({ ...event, userid: delivery.user.userId }, ackedAt).then(
        (removed) => {
          if (removed) {
            this.latency.observe(Math.max(0, ackedAt.getTime() - Date.parse(event.createdAt)) / 1000);
          }
          this.wake(delivery);
        },
        (ackError: unknown) => {
          this.warn(`acknowledgement of ${event.id} not recorded`, ackError);
          this.wake(delivery);
        },
      );
    });
  }

  /** Graceful shutdown: disconnect this replica's sockets (clients reconnect elsewhere) and leave the registry. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.registry.onHeartbeat = undefined;
    clearInterval(this.expiryTimer);
    for (const delivery of [...this.deliveries.values()]) {
      delivery.closed = true;
      delivery.socket.disconnect(true);
    }
    this.deliveries.clear();
    this.byUser.clear();
    this.connectedGauge.set(0);
    try {
      await this.registry.release();
    } catch (error) {
      this.warn('could not release the registry lease', error);
    }
  }

  private warn(what: string, error: unknown): void {
    this.logger.warn(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
