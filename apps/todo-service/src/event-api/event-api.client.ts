import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { PostEventBody, UserEventAccepted } from '@app/contracts';
import type { TodoConfig } from '../config/todo.config';

export class EventApiError extends Error {
  override name = 'EventApiError';
}

/** HTTP client of the event-gateway's internal Event API (SPEC section 4). */
@Injectable()
export class EventApiClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(config: ConfigService<TodoConfig, true>) {
    this.baseUrl = config.getOrThrow('eventApi.url', { infer: true });
    this.timeoutMs = config.getOrThrow('eventApi.timeoutMs', { infer: true });
  }

  /** `POST /events/{userid}/downstream`; resolves with the 202 answer, rejects on anything else. */
  async postUserEvent<T>(userid: string, body: PostEventBody<T>): Promise<UserEventAccepted> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/events/${encodeURIComponent(userid)}/downstream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new EventApiError(`event API unreachable: ${cause ?? (error as Error).message}`);
    }
    const text = await response.text().catch(() => '');
    if (response.status !== 202) {
      throw new EventApiError(`event API answered ${response.status}: ${text.slice(0, 200)}`);
    }
    let answer: Partial<UserEventAccepted> = {};
    try {
      answer = JSON.parse(text) as Partial<UserEventAccepted>;
    } catch {
      // A 202 is an acceptance even if its body is unreadable.
    }
    return {
      id: typeof answer.id === 'string' ? answer.id : (body.id ?? ''),
      userid: typeof answer.userid === 'string' ? answer.userid : userid,
      delivered: typeof answer.delivered === 'number' ? answer.delivered : 0,
      stored: true,
    };
  }
}
