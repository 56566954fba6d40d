export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Shown in the error when the condition never held. */
  description?: string;
}

/**
 * Polls `probe` until it returns a value other than `undefined`/`false` (or stops throwing), bounded
 * by `timeoutMs`. Tests use this instead of fixed sleeps.
 */
export async function waitFor<T>(probe: () => T | Promise<T>, options: WaitOptions = {}): Promise<Exclude<T, false | undefined>> {
  const { timeoutMs = 10_000, intervalMs = 25, description = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) {
        return value as Exclude<T, false | undefined>;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves once `emitter` emits `event`, or rejects after `timeoutMs`. */
export function once<T = unknown>(
  emitter: { once(event: string, listener: (...args: never[]) => void): unknown },
  event: string,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`)), timeoutMs);
    emitter.once(event, ((value: T) => {
      clearTimeout(timer);
      resolve(value);
    }));
  });
}
