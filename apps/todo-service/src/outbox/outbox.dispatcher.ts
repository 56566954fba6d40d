import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TodoConfig } from '../config/todo.config';
import { OutboxService } from './outbox.service';

const BATCH_SIZE = 50;
/** Retry times remembered at most; beyond that, the looks alone find the retries. */
const MAX_RETRY_TIMES = 10_000;

/**
 * The background loop that retries pending completion events. State lives in MongoDB, so it resumes
 * after restarts; a lease per event keeps several replicas from dispatching one event at once.
 *
 * It looks every OUTBOX_POLL_MS while looks find due events (or fail); after a look that finds
 * none, the pause doubles up to OUTBOX_IDLE_POLL_MS. A delivery of this process that fails wakes it
 * at the retry time, so its own retries keep their backoff schedule whatever the pause; the pause
 * bounds only how late events left pending by another process (crashed or stopped) are found.
 * On MongoDB a look is a range scan of the `downstream.status`/`nextAttemptAt` index; a server
 * without that index (FerretDB on SQLite) reads the whole collection per look, so idle looks every
 * second kept it busy at 100,000 todos (bench/analysis.md).
 */
@Injectable()
export class OutboxDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxDispatcher.name);
  private readonly pollMs: number;
  private readonly idlePollMs: number;
  /** The pause before the next look. */
  private pauseMs: number;
  private stopped = false;
  private running?: Promise<void>;
  /** The retry times of this process's failed deliveries still ahead (epoch ms). */
  private retryTimes: number[] = [];
  /** The current pause: when it ends, and how to end it early. */
  private sleeping?: { until: number; timer: NodeJS.Timeout; done: () => void };
  private lastErrorLog = 0;

  constructor(
    private readonly outbox: OutboxService,
    config: ConfigService<TodoConfig, true>,
  ) {
    this.pollMs = config.getOrThrow('outbox.pollMs', { infer: true });
    this.idlePollMs = config.getOrThrow('outbox.idlePollMs', { infer: true });
    this.pauseMs = this.pollMs;
  }

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.outbox.onRetryScheduled = (at) => this.wakeAt(at.getTime());
    this.running = this.loop();
  }

  /** Stops before the MongoDB connection closes (that happens in onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.outbox.onRetryScheduled = undefined;
    this.sleeping?.done();
    await this.running;
  }

  /**
   * One pass: every due event this replica can claim is attempted once (the others are held
   * elsewhere or no longer pending). Returns how many were due.
   */
  async dispatchDue(): Promise<number> {
    const due = await this.outbox.findDue(BATCH_SIZE);
    for (const doc of due) {
      if (this.stopped) {
        break;
      }
      await this.outbox.dispatch(doc);
    }
    return due.length;
  }

  /** Remembers a retry due at `at` (epoch ms): the pause in progress, and later ones, end by then. */
  private wakeAt(at: number): void {
    if (this.retryTimes.length < MAX_RETRY_TIMES) {
      this.retryTimes.push(at);
    }
    const sleeping = this.sleeping;
    if (!sleeping || sleeping.until <= at) {
      return;
    }
    clearTimeout(sleeping.timer);
    sleeping.until = at;
    sleeping.timer = setTimeout(sleeping.done, Math.max(0, at - Date.now()));
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const lookedAt = Date.now();
      let found = true;
      try {
        found = (await this.dispatchDue()) > 0;
      } catch (error) {
        if (Date.now() - this.lastErrorLog > 10_000) {
          this.lastErrorLog = Date.now();
          this.logger.warn(`outbox pass failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      const pause = found ? this.pollMs : this.pauseMs;
      this.pauseMs = found ? this.pollMs : Math.min(this.pauseMs * 2, this.idlePollMs);
      await this.sleep(Math.min(pause, this.untilNextRetry(lookedAt)));
    }
  }

  /**
   * Time until the earliest remembered retry (0 if one fell due after `lookedAt`, when the look
   * that just ended began: it may have missed it). Retries due before that look are forgotten.
   */
  private untilNextRetry(lookedAt: number): number {
    this.retryTimes = this.retryTimes.filter((at) => at > lookedAt);
    return this.retryTimes.length === 0 ? Infinity : Math.max(0, Math.min(...this.retryTimes) - Date.now());
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(this.sleeping?.timer);
        this.sleeping = undefined;
        resolve();
      };
      this.sleeping = { until: Date.now() + ms, timer: setTimeout(done, ms), done };
    });
  }
}
