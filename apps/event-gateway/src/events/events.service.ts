import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  type BroadcastAccepted,
  DEFAULT_EVENT_TYPE,
  type DownstreamEvent,
  type PostEventBody,
  type UserEventAccepted,
} from '@app/contracts';
import { DeliveryService } from '../delivery/delivery.service';
import { InboxService } from '../inbox/inbox.service';
import { ClientRegistryService, userKey } from '../registry/client-registry.service';

/** The Event API (SPEC section 4): store-and-announce for one user, fire-and-forget broadcast. */
@Injectable()
export class EventsService {
  constructor(
    private readonly inbox: InboxService,
    private readonly delivery: DeliveryService,
    private readonly registry: ClientRegistryService,
  ) {}

  /**
   * Stores the event in the user's inbox (it stays until a client of the user acknowledges it), then
   * announces it to every replica. A repeated id is accepted and answered as the first time.
   */
  async emitToUser(userid: string, body: PostEventBody): Promise<UserEventAccepted> {
    const event: DownstreamEvent & { userid: string } = {
      id: body.id ?? randomUUID(),
      type: body.type ?? DEFAULT_EVENT_TYPE,
      userid,
      data: body.data,
      createdAt: new Date().toISOString(),
    };
    // One round trip: store, announce, count the user's sockets and remember the answer (one script).
    const result = await this.inbox.append(event, {
      channel: this.delivery.announcementChannel,
      socketsKey: userKey(userid),
    });
    if (!result.stored) {
      if (result.previous) {
        return result.previous;
      }
      // Only a record left by an earlier version between its store and its answer: announce again.
      await this.delivery.nudge(userid);
      return { id: event.id, userid, delivered: await this.registry.countOfUser(userid), stored: true };
    }
    return { id: event.id, userid, delivered: result.delivered, stored: true };
  }

  /** Emits to every connected client on every replica, once each; nothing is stored. */
  async broadcast(body: PostEventBody): Promise<BroadcastAccepted> {
    const event: DownstreamEvent = {
      id: body.id ?? randomUUID(),
      type: body.type ?? DEFAULT_EVENT_TYPE,
      data: body.data,
      createdAt: new Date().toISOString(),
    };
    const [delivered] = await Promise.all([this.registry.countAll(), this.delivery.broadcast(event)]);
    return { id: event.id, delivered };
  }
}
