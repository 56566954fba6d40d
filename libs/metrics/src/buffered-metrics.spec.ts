import { Counter, Histogram, Registry } from 'prom-client';
import { BufferedCounter, BufferedHistogram, flushBuffered, HISTOGRAM_BUFFER_SIZE } from './buffered-metrics';

function histogram(registry: Registry, collect?: typeof flushBuffered): Histogram<'route'> {
  return new Histogram({
    name: 'duration_seconds',
    help: 'durations',
    labelNames: ['route'],
    buckets: [0.001, 0.01, 0.1],
    registers: [registry],
    ...(collect ? { collect } : {}),
  });
}

function counter(registry: Registry, name: string): Counter<'result'> {
  return new Counter({
    name,
    help: name,
    labelNames: ['result'],
    registers: [registry],
    collect: flushBuffered,
  });
}

/** The value of one exposition line, e.g. `duration_seconds_count{route="/a"}`. */
async function sample(registry: Registry, series: string): Promise<number | undefined> {
  const line = (await registry.metrics()).split('\n').find((text) => text.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('BufferedHistogram', () => {
  it('hands every buffered observation to prom-client when the histogram is collected', async () => {
    const registry = new Registry();
    const buffered = new BufferedHistogram(histogram(registry, flushBuffered));
    const a = buffered.child({ route: '/a' })!;
    const b = buffered.child({ route: '/b' })!;
    for (const value of [0.0005, 0.005, 0.05, 0.5]) {
      buffered.observe(a, value);
    }
    buffered.observe(b, 0.002);

    expect(await sample(registry, 'duration_seconds_count{route="/a"}')).toBe(4);
    expect(await sample(registry, 'duration_seconds_bucket{le="0.001",route="/a"}')).toBe(1);
    expect(await sample(registry, 'duration_seconds_bucket{le="0.01",route="/a"}')).toBe(2);
    expect(await sample(registry, 'duration_seconds_bucket{le="0.1",route="/a"}')).toBe(3);
    expect(await sample(registry, 'duration_seconds_sum{route="/a"}')).toBeCloseTo(0.5555, 10);
    expect(await sample(registry, 'duration_seconds_count{route="/b"}')).toBe(1);
    // Collected once: a second collection does not count them again.
    expect(await sample(registry, 'duration_seconds_count{route="/a"}')).toBe(4);
  });

  it('flushes by itself when its buffer is full, without waiting for a collection', async () => {
    const registry = new Registry();
    // No flushBuffered here: the values only reach prom-client when the buffer fills.
    const buffered = new BufferedHistogram(histogram(registry));
    const child = buffered.child({ route: '/full' })!;
    for (let i = 0; i < HISTOGRAM_BUFFER_SIZE - 1; i += 1) {
      buffered.observe(child, 0.001);
    }
    expect(await sample(registry, 'duration_seconds_count{route="/full"}')).toBeUndefined();
    buffered.observe(child, 0.001);
    buffered.observe(child, 0.001);
    expect(await sample(registry, 'duration_seconds_count{route="/full"}')).toBe(HISTOGRAM_BUFFER_SIZE);
  });

  it('makes no more children than maxSeries', () => {
    const buffered = new BufferedHistogram(histogram(new Registry()), 2);
    expect(buffered.child({ route: '/1' })).toBe(0);
    expect(buffered.child({ route: '/2' })).toBe(1);
    expect(buffered.child({ route: '/3' })).toBeUndefined();
  });

  it('flushes on close, then leaves later collections alone', async () => {
    const registry = new Registry();
    const buffered = new BufferedHistogram(histogram(registry, flushBuffered));
    const child = buffered.child({ route: '/closed' })!;
    buffered.observe(child, 0.001);
    buffered.close();
    expect(await sample(registry, 'duration_seconds_count{route="/closed"}')).toBe(1);
    buffered.observe(child, 0.001);
    expect(await sample(registry, 'duration_seconds_count{route="/closed"}')).toBe(1);
  });
});

describe('BufferedCounter', () => {
  it('adds the increments of each label set when the counter is collected', async () => {
    const registry = new Registry();
    const buffered = new BufferedCounter(counter(registry, 'results_total'));
    const ok = buffered.labels({ result: 'ok' });
    const refused = buffered.labels({ result: 'refused' });
    ok.inc();
    ok.inc();
    refused.inc();
    expect(await sample(registry, 'results_total{result="ok"}')).toBe(2);
    expect(await sample(registry, 'results_total{result="refused"}')).toBe(1);
    ok.inc();
    expect(await sample(registry, 'results_total{result="ok"}')).toBe(3);
    buffered.close();
  });

  it('keeps the increments of other owners of the same counter apart', async () => {
    const registry = new Registry();
    const shared = counter(registry, 'shared_total');
    const first = new BufferedCounter(shared);
    const second = new BufferedCounter(shared);
    first.labels({ result: 'ok' }).inc();
    second.labels({ result: 'ok' }).inc();
    expect(await sample(registry, 'shared_total{result="ok"}')).toBe(2);
    first.close();
    second.close();
  });
});
