import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { ClientEntry } from '@app/contracts';
import { RedisService } from '@app/redis';
import type { GatewayConfig } from '../config/gateway.config';

/** The seed's registry key: a HASH socketId → ClientEntry JSON. */
export const CLIENT_LIST_KEY = 'client-list';
/** The SET of one user's socket ids (every replica). */
export const userKey = (userId: string): string => `${CLIENT_LIST_KEY}:user:${userId}`;
const replicaKey = (replica: string): string => `${CLIENT_LIST_KEY}:replica:${replica}`;
const leaseKey = (replica: string): string => `${CLIENT_LIST_KEY}:lease:${replica}`;
const REPLICAS_KEY = `${CLIENT_LIST_KEY}:replicas`;

interface StoredEntry extends ClientEntry {
  replica: string;
}

/**
 * What this replica remembers of its own sockets (to write them again after a lapse): the least that
 * rebuilds a StoredEntry, as the map holds one per connected socket.
 */
interface LocalEntry {
  userId: string;
  /** Milliseconds since the epoch. */
  connectedAt: number;
}

/**
 * The registry of connected clients in Redis (SPEC section 5), shared by every replica:
 *
 *   client-list                  HASH socketId → { userId, socketId, lastConnectedTime, replica }
 *   client-list:user:<userId>    SET  socket ids of one user (counts for `delivered`, GET /clients/{userId})
 *   client-list:replica:<id>     SET  socket ids connected to one replica
 *   client-list:replicas         SET  replica ids that own entries
 *   client-list:lease:<id>       STRING with a TTL of CLIENT_LEASE_SECONDS, refreshed by a heartbeat
 *
 * A replica that crashes stops refreshing its lease; every replica runs a sweeper that removes the
 * entries of replicas whose lease has expired, so nothing lingers longer than about one lease.
 * A live replica whose lease lapsed (a long pause) writes its entries again on its next heartbeat.
 */
@Injectable()
export class ClientRegistryService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ClientRegistryService.name);
  /** This replica's id: one per process start. */
  readonly replica = randomUUID();
  /** This replica's sockets: socket id → LocalEntry. */
  private readonly local = new Map<string, LocalEntry>();
  private readonly leaseSeconds: number;
  private heartbeatTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  private stopped = false;
  /** Called after each heartbeat (the delivery service uses it to poll inboxes). */
  onHeartbeat?: () => void;

  constructor(
    private readonly redis: RedisService,
    config: ConfigService<GatewayConfig, true>,
  ) {
    this.leaseSeconds = config.getOrThrow('gateway.leaseSeconds', { infer: true });
  }

  async onApplicationBootstrap(): Promise<void> {
    const leaseMs = this.leaseSeconds * 1000;
    try {
      await this.heartbeat();
    } catch (error) {
      this.warn('first heartbeat failed', error);
    }
    this.heartbeatTimer = setInterval(
      () => {
        this.heartbeat().then(
          () => this.onHeartbeat?.(),
          (error: unknown) => this.warn('heartbeat failed', error),
        );
      },
      Math.max(200, Math.floor(leaseMs / 3)),
    );
    this.heartbeatTimer.unref();
    this.sweepTimer = setInterval(
      () => {
        this.sweep().catch((error: unknown) => this.warn('sweep failed', error));
      },
      Math.max(200, Math.min(1_000, Math.floor(leaseMs / 3))),
    );
    this.sweepTimer.unref();
  }

  /** Registers a socket of this replica. */
  async add(userId: string, socketId: string, connectedAt = new Date()): Promise<void> {
    const entry: LocalEntry = { userId, connectedAt: connectedAt.getTime() };
    this.local.set(socketId, entry);
    await this.write([[socketId, entry]]);
  }

  /** Removes a socket of this replica. */
  async remove(socketId: string): Promise<void> {
    const entry = this.local.get(socketId);
    if (!entry) {
      return;
    }
    this.local.delete(socketId);
    await this.redis.client
      .multi()
      .hdel(CLIENT_LIST_KEY, socketId)
      .srem(userKey(entry.userId), socketId)
      .srem(replicaKey(this.replica), socketId)
      .exec();
  }

  /** Every connected client, on every replica. */
  async all(): Promise<ClientEntry[]> {
    const raw = await this.redis.client.hvals(CLIENT_LIST_KEY);
    return raw.map((value) => toClientEntry(JSON.parse(value) as StoredEntry)).sort(byTime);
  }

  /** The sockets of one user, on every replica. */
  async ofUser(userId: string): Promise<ClientEntry[]> {
    const ids = await this.redis.client.smembers(userKey(userId));
    if (ids.length === 0) {
      return [];
    }
    const raw = await this.redis.client.hmget(CLIENT_LIST_KEY, ...ids);
    return raw
      .filter((value): value is string => value !== null)
      .map((value) => toClientEntry(JSON.parse(value) as StoredEntry))
      .sort(byTime);
  }

  /** How many sockets `userId` has connected now, on every replica. */
  countOfUser(userId: string): Promise<number> {
    return this.redis.client.scard(userKey(userId));
  }

  /** How many sockets are connected now, on every replica. */
  countAll(): Promise<number> {
    return this.redis.client.hlen(CLIENT_LIST_KEY);
  }

  private async write(entries: [socketId: string, entry: LocalEntry][]): Promise<void> {
    if (entries.length === 0) {
      return;
    }
    const multi = this.redis.client.multi();
    for (const [socketId, { userId, connectedAt }] of entries) {
      const stored: StoredEntry = {
        userId,
        socketId,
        lastConnectedTime: new Date(connectedAt).toISOString(),
        replica: this.replica,
      };
      multi
        .hset(CLIENT_LIST_KEY, socketId, JSON.stringify(stored))
        .sadd(userKey(userId), socketId)
        .sadd(replicaKey(this.replica), socketId);
    }
    multi.sadd(REPLICAS_KEY, this.replica);
    await multi.exec();
  }

  /**
   * Refreshes this replica's lease: two commands whatever the number of sockets. The entries are
   * written again only when they may be gone — the lease had lapsed (a long pause, a sweep by another
   * replica, Redis restarted without its data) or this replica's set no longer counts its sockets.
   */
  async heartbeat(): Promise<void> {
    if (this.stopped) {
      return;
    }
    const [[, refreshed], [, stored]] = (await this.redis.client
      .multi()
      .expire(leaseKey(this.replica), this.leaseSeconds)
      .scard(replicaKey(this.replica))
      .exec()) as [[unknown, number], [unknown, number]];
    if (refreshed === 1 && stored === this.local.size) {
      return;
    }
    await this.redis.client.set(leaseKey(this.replica), String(Date.now()), 'EX', this.leaseSeconds);
    await this.redis.client.sadd(REPLICAS_KEY, this.replica);
    await this.write([...this.local.entries()]);
  }

  /** Removes the entries of every replica whose lease has expired. */
  async sweep(): Promise<number> {
    const replicas = await this.redis.client.smembers(REPLICAS_KEY);
    let removed = 0;
    for (const replica of replicas) {
      if (replica === this.replica || (await this.redis.client.exists(leaseKey(replica))) === 1) {
        continue;
      }
      removed += await this.purge(replica);
    }
    return removed;
  }

  private async purge(replica: string): Promise<number> {
    const socketIds = await this.redis.client.smembers(replicaKey(replica));
    const raw = socketIds.length > 0 ? await this.redis.client.hmget(CLIENT_LIST_KEY, ...socketIds) : [];
    const multi = this.redis.client.multi();
    socketIds.forEach((socketId, index) => {
      const value = raw[index];
      multi.hdel(CLIENT_LIST_KEY, socketId);
      if (value) {
        multi.srem(userKey((JSON.parse(value) as StoredEntry).userId), socketId);
      }
    });
    multi.del(replicaKey(replica)).srem(REPLICAS_KEY, replica);
    await multi.exec();
    if (socketIds.length > 0) {
      this.logger.log(`removed ${socketIds.length} registry entries of replica ${replica} (lease expired)`);
    }
    return socketIds.length;
  }

  /** Graceful shutdown: stop the heartbeat, remove this replica's entries and release its lease. */
  async release(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.sweepTimer);
    this.local.clear();
    await this.redis.client.del(leaseKey(this.replica));
    await this.purge(this.replica);
  }

  private warn(what: string, error: unknown): void {
    this.logger.warn(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function toClientEntry(entry: StoredEntry): ClientEntry {
  return { userId: entry.userId, socketId: entry.socketId, lastConnectedTime: entry.lastConnectedTime };
}

function byTime(a: ClientEntry, b: ClientEntry): number {
  return a.lastConnectedTime.localeCompare(b.lastConnectedTime);
}
