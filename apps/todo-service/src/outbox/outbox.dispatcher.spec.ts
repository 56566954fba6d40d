import { Logger } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import type { TodoConfig } from '../config/todo.config';
import type { TodoRecord } from '../todos/todo.schema';
import { OutboxDispatcher } from './outbox.dispatcher';
import type { OutboxService } from './outbox.service';

const POLL_MS = 100;
const IDLE_POLL_MS = 800;

/** An outbox whose looks find what `due` holds (or fail), and record when they happened. */
class FakeOutbox {
  due: TodoRecord[] = [];
  failing = false;
  readonly looks: number[] = [];
  onRetryScheduled?: (at: Date) => void;

  findDue(): Promise<TodoRecord[]> {
    this.looks.push(Date.now());
    if (this.failing) {
      return Promise.reject(new Error('MongoDB unreachable'));
    }
    const due = this.due;
    this.due = [];
    return Promise.resolve(due);
  }

  dispatch(): Promise<'delivered'> {
    return Promise.resolve('delivered');
  }
}

describe('OutboxDispatcher: when it looks for pending events', () => {
  let outbox: FakeOutbox;
  let dispatcher: OutboxDispatcher;
  let start: number;

  /** Times of the looks, relative to the start. */
  const looks = (): number[] => outbox.looks.map((at) => at - start);

  beforeEach(() => {
    // A failing look logs a warning; the test checks when looks happen, not the log.
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.useFakeTimers({ now: 1_000_000 });
    start = Date.now();
    outbox = new FakeOutbox();
    const settings = { 'outbox.pollMs': POLL_MS, 'outbox.idlePollMs': IDLE_POLL_MS };
    const config = { getOrThrow: (key: keyof typeof settings) => settings[key] } as unknown as ConfigService<
      TodoConfig,
      true
    >;
    dispatcher = new OutboxDispatcher(outbox as unknown as OutboxService, config);
    dispatcher.onApplicationBootstrap();
  });

  afterEach(async () => {
    const stopped = dispatcher.beforeApplicationShutdown();
    await jest.runOnlyPendingTimersAsync();
    await stopped;
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('looks at start, then doubles its pause after each look that finds nothing, up to the idle maximum', async () => {
    await jest.advanceTimersByTimeAsync(4_000);
    // 0, +100, +200, +400, +800, then every 800.
    expect(looks()).toEqual([0, 100, 300, 700, 1_500, 2_300, 3_100, 3_900]);
  });

  it('looks every OUTBOX_POLL_MS again once a look finds due events, and while looks fail', async () => {
    await jest.advanceTimersByTimeAsync(1_500); // looks at 0, 100, 300, 700, 1500: pause now 800
    outbox.due = [{ _id: '1' } as unknown as TodoRecord];
    await jest.advanceTimersByTimeAsync(800); // the look at 2300 finds it
    outbox.failing = true;
    await jest.advanceTimersByTimeAsync(300);
    expect(looks()).toEqual([0, 100, 300, 700, 1_500, 2_300, 2_400, 2_500, 2_600]);
    outbox.failing = false;
    await jest.advanceTimersByTimeAsync(500); // from 2700 on, looks find nothing: the pause doubles again
    expect(looks().slice(9)).toEqual([2_700, 2_800, 3_000]);
  });

  it('wakes up at the retry time of a failed delivery of its own, whatever its pause', async () => {
    await jest.advanceTimersByTimeAsync(1_600); // pause of 800 from 1500: next look would be at 2300
    outbox.onRetryScheduled?.(new Date(start + 1_650));
    outbox.onRetryScheduled?.(new Date(start + 2_000));
    await jest.advanceTimersByTimeAsync(500);
    expect(looks()).toEqual([0, 100, 300, 700, 1_500, 1_650, 2_000]);
  });

  it('stops at once when the application shuts down, even in a long pause', async () => {
    await jest.advanceTimersByTimeAsync(1_600);
    const before = outbox.looks.length;
    await dispatcher.beforeApplicationShutdown();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(outbox.looks).toHaveLength(before);
    expect(outbox.onRetryScheduled).toBeUndefined();
  });
});
