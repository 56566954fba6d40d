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

/**
 * The background loop that retries pending completion events. State lives in MongoDB, so it resumes
 * after restarts; a lease per event keeps several replicas from dispatching one event at once.
 */
@Injectable()
export class OutboxDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxDispatcher.name);
  private readonly pollMs: number;
  private stopped = false;
  private running?: Promise<void>;
  private wake?: () => void;
  private lastErrorLog = 0;

  constructor(
    private readonly outbox: OutboxService,
    config: ConfigService<TodoConfig, true>,
  ) {
    this.pollMs = config.getOrThrow('outbox.pollMs', { infer: true });
  }

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.running = this.loop();
  }

  /** Stops before the MongoDB connection closes (that happens in onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  /** One pass: every due event this replica can claim is attempted once. Returns how many were attempted. */
  async dispatchDue(): Promise<number> {
    const due = await this.outbox.findDue(BATCH_SIZE);
    let attempted = 0;
    for (const doc of due) {
      if (this.stopped) {
        break;
      }
      if ((await this.outbox.dispatch(doc)) !== undefined) {
        attempted += 1;
      }
    }
    return attempted;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.dispatchDue();
      } catch (error) {
        if (Date.now() - this.lastErrorLog > 10_000) {
          this.lastErrorLog = Date.now();
          this.logger.warn(`outbox pass failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      await this.sleep(this.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
