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
/** Events emitted to one socket and not yet acknowledged (or timed out), at most. */
export const DELIVERY_WINDOW = 100;
/** Announced events buffered per socket at most; beyond, the socket reads them from the inbox. */
const MAX_ANNOUNCED = 1_000;

/** A stored event (seq + event), or a bare nudge for a user (read the inbox). */
interface Announcement {
  seq?: number;
  event?: DownstreamEvent & { userid: string };
  userid?: string;
}

/** The room every socket of a user joins. */
export const userRoom = (userId: string): string => `user:${userId}`;

interface Delivery {
  socket: Socket;
  userId: string;
  jti: string;
  /** Sequence number of the last event emitted to this socket. */
  cursor: number;
  /** Events up to this sequence number were waiting when the socket connected (counted as replayed). */
  replayUntil: number;
  inFlight: number;
  /** Incremented each time the cursor moves back after a timeout (see emit). */
  epoch: number;
  /** Events announced by a POST, by sequence number, not yet emitted to this socket. */
  announced: Map<number, DownstreamEvent>;
  running: boolean;
  again: boolean;
  closed: boolean;
  expiryTimer?: NodeJS.Timeout;
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
  private readonly byUser = new Map<string, Set<Delivery>>();
  private readonly ackTimeoutMs: number;
  private readonly inboxChannel: string;
  private readonly revocationChannel: string;
  private subscriber?: Redis;
  private server?: Server;
  private closing = false;

  constructor(
    private readonly redis: RedisService,
    private readonly inbox: InboxService,
    private readonly registry: ClientRegistryService,
    config: ConfigService<GatewayConfig, true>,
    @InjectMetric(METRIC_CONNECTED_SOCKETS) private readonly connectedGauge: Gauge,
    @InjectMetric(METRIC_EVENTS_EMITTED) private readonly emittedCounter: Counter<'kind'>,
    @InjectMetric(METRIC_EVENTS_REPLAYED) private readonly replayedCounter: Counter,
    @InjectMetric(METRIC_EVENTS_RETRIED) private readonly retriedCounter: Counter,
    @InjectMetric(METRIC_DELIVERY_LATENCY) private readonly latency: Histogram,
  ) {
    this.ackTimeoutMs = config.getOrThrow('gateway.ackTimeoutMs', { infer: true });
    this.inboxChannel = redis.prefixed(INBOX_CHANNEL);
    this.revocationChannel = redis.prefixed(REVOCATION_CHANNEL);
  }

  async onModuleInit(): Promise<void> {
    const subscriber = this.redis.connect('gateway-notifications', { maxRetriesPerRequest: null });
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.inboxChannel) {
        this.onAnnouncement(message);
      } else if (channel === this.revocationChannel) {
        this.disconnectToken(message);
      }
    });
    // After a reconnect ioredis resubscribes; events announced meanwhile are found by the polling.
    subscriber.on('ready', () => this.wakeAll());
    await subscriber.subscribe(this.inboxChannel, this.revocationChannel);
    this.registry.onHeartbeat = () => {
      this.pollAll().catch((error: unknown) => this.warn('inbox poll failed', error));
    };
  }

  /** The Socket.IO server of the default namespace (set by the gateway once it exists). */
  attachServer(server: Server): void {
    this.server = server;
  }

  /**
   * Announces a stored event to every replica. The announcement carries the event, so every socket
   * of the user connected now gets it even if another of its sockets acknowledges it first.
   */
  async announce(seq: number, event: DownstreamEvent & { userid: string }): Promise<void> {
    const announcement: Announcement = { seq, event };
    await this.redis.client.publish(this.inboxChannel, JSON.stringify(announcement));
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
    for (const delivery of this.byUser.get(userId) ?? []) {
      if (
        announcement.event &&
        typeof announcement.seq === 'number' &&
        announcement.seq > delivery.cursor &&
        delivery.announced.size < MAX_ANNOUNCED
      ) {
        delivery.announced.set(announcement.seq, announcement.event);
      }
      this.wake(delivery);
    }
  }

  /** Starts delivering to a freshly authenticated socket: registry entry, room, replay. */
  async connect(socket: Socket): Promise<void> {
    const user = (socket.data as { user?: SocketUser }).user;
    if (!user || this.closing) {
      socket.disconnect(true);
      return;
    }
    const delivery: Delivery = {
      socket,
      userId: user.userId,
      jti: user.jti,
      cursor: 0,
      replayUntil: 0,
      inFlight: 0,
      epoch: 0,
      announced: new Map(),
      running: false,
      again: false,
      closed: false,
    };
    this.deliveries.set(socket.id, delivery);
    let users = this.byUser.get(user.userId);
    if (!users) {
      users = new Set();
      this.byUser.set(user.userId, users);
    }
    users.add(delivery);
    this.connectedGauge.set(this.deliveries.size);
    this.scheduleExpiry(delivery, user.exp);
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
    clearTimeout(delivery.expiryTimer);
    this.deliveries.delete(socket.id);
    const users = this.byUser.get(delivery.userId);
    users?.delete(delivery);
    if (users && users.size === 0) {
      this.byUser.delete(delivery.userId);
    }
    this.connectedGauge.set(this.deliveries.size);
    if (!this.closing) {
      try {
        await this.registry.remove(socket.id);
      } catch (error) {
        this.warn(`could not unregister socket of ${delivery.userId}`, error);
      }
    }
  }

  /**
   * A socket presented a fresh token for the same user: its expiry moves to the new token's.
   * Returns false (and changes nothing) when the token belongs to someone else.
   */
  renew(socket: Socket, user: SocketUser): boolean {
    const delivery = this.deliveries.get(socket.id);
    if (!delivery || delivery.userId !== user.userId) {
      return false;
    }
    delivery.jti = user.jti;
    (socket.data as { user?: SocketUser }).user = user;
    this.scheduleExpiry(delivery, user.exp);
    return true;
  }

  /** Broadcasts to every connected client on every replica (through the adapter); not stored. */
  broadcast(event: DownstreamEvent, recipients: number): void {
    if (!this.server) {
      throw new Error('the Socket.IO server is not ready');
    }
    // Acknowledgements of broadcasts are accepted and ignored: nothing is stored to remove.
    this.server.timeout(this.ackTimeoutMs).emit(DOWNSTREAM_EVENT, event, () => undefined);
    this.emittedCounter.inc({ kind: 'broadcast' }, recipients);
  }

  private scheduleExpiry(delivery: Delivery, exp: number): void {
    clearTimeout(delivery.expiryTimer);
    const remainingMs = exp * 1000 - Date.now();
    // setTimeout holds at most ~24.8 days; longer tokens are re-checked when the timer fires.
    delivery.expiryTimer = setTimeout(
      () => {
        if (exp * 1000 <= Date.now()) {
          delivery.socket.emit('token_expired');
          delivery.socket.disconnect(true);
        } else {
          this.scheduleExpiry(delivery, exp);
        }
      },
      Math.min(Math.max(remainingMs, 0), 2 ** 31 - 1),
    );
    delivery.expiryTimer.unref();
  }

  private disconnectToken(jti: string): void {
    for (const delivery of this.deliveries.values()) {
      if (delivery.jti === jti) {
        delivery.socket.emit('token_revoked');
        delivery.socket.disconnect(true);
      }
    }
  }

  /**
   * The safety net for a lost announcement: one MGET for every local user, then only the sockets
   * whose cursor is behind their user's last sequence number read the inbox.
   */
  private async pollAll(): Promise<void> {
    const lasts = await this.inbox.lastSeqs([...this.byUser.keys()]);
    for (const [userId, last] of lasts) {
      for (const delivery of this.byUser.get(userId) ?? []) {
        if (last > delivery.cursor) {
          this.wake(delivery);
        }
      }
    }
  }

  private wakeAll(): void {
    for (const delivery of this.deliveries.values()) {
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
    delivery.running = true;
    this.run(delivery)
      .catch((error: unknown) => this.warn(`delivery to ${delivery.userId} paused`, error))
      .finally(() => {
        delivery.running = false;
      });
  }

  /** Emits the user's events after the socket's cursor, in order, keeping at most DELIVERY_WINDOW unacknowledged. */
  private async run(delivery: Delivery): Promise<void> {
    do {
      delivery.again = false;
      while (!delivery.closed && delivery.inFlight < DELIVERY_WINDOW) {
        let batch = this.takeAnnounced(delivery);
        if (!batch) {
          const read = await this.inbox.pending(
            delivery.userId,
            delivery.cursor,
            DELIVERY_WINDOW - delivery.inFlight,
          );
          batch = read.events;
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
        for (const seq of delivery.announced.keys()) {
          if (seq <= delivery.cursor) {
            delivery.announced.delete(seq);
          }
        }
      }
    } while (delivery.again && !delivery.closed);
  }

  /**
   * The announced events that directly follow the cursor (no Redis read needed), or undefined when
   * there is a gap: then the inbox is read, which also covers events whose announcement was missed.
   */
  private takeAnnounced(delivery: Delivery): PendingEvent[] | undefined {
    const taken: PendingEvent[] = [];
    let seq = delivery.cursor + 1;
    while (taken.length < DELIVERY_WINDOW - delivery.inFlight) {
      const event = delivery.announced.get(seq);
      if (!event) {
        break;
      }
      delivery.announced.delete(seq);
      taken.push({ seq, event });
      seq += 1;
    }
    return taken.length > 0 ? taken : undefined;
  }

  private emit(delivery: Delivery, { seq, event }: PendingEvent): void {
    delivery.cursor = seq;
    delivery.inFlight += 1;
    const epoch = delivery.epoch;
    this.emittedCounter.inc({ kind: 'user' });
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
          delivery.announced.clear();
          this.retriedCounter.inc();
        }
        this.wake(delivery);
        return;
      }
      const ackedAt = new Date();
      this.inbox
        .acknowledge({ ...event, userid: delivery.userId }, ackedAt)
        .then((removed) => {
          if (removed) {
            this.latency.observe(Math.max(0, ackedAt.getTime() - Date.parse(event.createdAt)) / 1000);
          }
        })
        .catch((ackError: unknown) => this.warn(`acknowledgement of ${event.id} not recorded`, ackError))
        .finally(() => this.wake(delivery));
    });
  }

  /** Graceful shutdown: disconnect this replica's sockets (clients reconnect elsewhere) and leave the registry. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.registry.onHeartbeat = undefined;
    for (const delivery of [...this.deliveries.values()]) {
      delivery.closed = true;
      clearTimeout(delivery.expiryTimer);
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
